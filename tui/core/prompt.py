"""The exact hidden prompt: rendered text, the tokens fed to the model, and where each message sits.

A `Prompt` is built once and then both shown (``llm-tui prompt``, the inspector) and generated from, so
what the user inspects is by construction what the model receives.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tui.core.messages import Message
from tui.core.template import ChatTemplate, TemplateRenderError

FOLD_SEPARATOR = "\n\n"
FOLD_NOTE = "This template has no system role: the system message was folded into the first user turn."


@dataclass(frozen=True)
class Token:
    """One token as the model sees it: its id, its raw bytes, and whether it is a control token."""

    id: int
    piece: bytes
    special: bool

    @property
    def text(self) -> str:
        return self.piece.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Span:
    """Where a message's content sits: characters of the text, and the tokens that cover them."""

    message: int
    role: str
    start: int
    end: int
    first_token: int
    end_token: int


@dataclass(frozen=True)
class Prompt:
    text: str
    tokens: tuple[Token, ...]
    messages: tuple[Message, ...]
    spans: tuple[Span | None, ...]
    template_name: str
    notes: tuple[str, ...] = field(default=())
    generation_start: int | None = None
    """Where the text the template adds to cue the reply (``add_generation_prompt``) begins."""

    @property
    def ids(self) -> list[int]:
        return [t.id for t in self.tokens]

    def __len__(self) -> int:
        return len(self.tokens)

    def runs(self) -> list[tuple[str, bool]]:
        """The text cut where tokens switch between special and ordinary: (text, is_special)."""
        runs: list[tuple[str, bool]] = []
        buffer, special = b"", False
        for token in self.tokens:
            if token.special != special and buffer:
                runs.append((buffer.decode("utf-8", errors="replace"), special))
                buffer = b""
            buffer += token.piece
            special = token.special
        if buffer:
            runs.append((buffer.decode("utf-8", errors="replace"), special))
        return runs

    def to_json(self) -> dict[str, Any]:
        return {
            "template": self.template_name,
            "notes": list(self.notes),
            "text": self.text,
            "messages": [m.as_dict() for m in self.messages],
            "tokens": [{"id": t.id, "piece": t.text, "special": t.special} for t in self.tokens],
            "spans": [
                None
                if s is None
                else {
                    "message": s.message,
                    "role": s.role,
                    "start": s.start,
                    "end": s.end,
                    "tokens": [s.first_token, s.end_token],
                }
                for s in self.spans
            ],
        }


class Tokenizer(Protocol):
    """What prompt building needs from a model: text to ids with special tokens parsed, id to bytes."""

    def tokenize(self, text: str) -> list[int]: ...

    def piece(self, token: int) -> bytes: ...

    def is_special(self, token: int) -> bool: ...


def build_prompt(
    template: ChatTemplate,
    messages: Sequence[Message],
    tokenizer: Tokenizer,
    add_generation_prompt: bool = True,
) -> Prompt:
    """Render ``messages`` with ``template`` and tokenize the result exactly as it will be fed."""
    notes: list[str] = []
    if template.is_fallback:
        notes.append(f"No chat template in the model file; using the {template.name}.")
    rendered = list(messages)
    try:
        text = template.render(rendered, add_generation_prompt)
    except TemplateRenderError:
        folded = fold_system(messages)
        if folded is None:
            raise
        rendered = folded
        text = template.render(rendered, add_generation_prompt)
        notes.append(FOLD_NOTE)
    generation_start = None
    if add_generation_prompt:
        without = template.render(rendered, add_generation_prompt=False)
        if text.startswith(without) and len(text) > len(without):
            generation_start = len(without)
    ids = tokenizer.tokenize(text)
    tokens = tuple(Token(i, tokenizer.piece(i), tokenizer.is_special(i)) for i in ids)
    spans = _locate(text, messages, tokens)
    return Prompt(text, tokens, tuple(messages), spans, template.name, tuple(notes), generation_start)


def fold_system(messages: Sequence[Message]) -> list[Message] | None:
    """Put a leading system message in front of the first user turn; None if there is nothing to fold."""
    if not messages or messages[0].role != "system":
        return None
    system, rest = messages[0], list(messages[1:])
    for i, message in enumerate(rest):
        if message.role == "user":
            content = system.content + FOLD_SEPARATOR + message.content
            rest[i] = Message("user", content)
            return rest
    return None


def _locate(text: str, messages: Sequence[Message], tokens: Sequence[Token]) -> tuple[Span | None, ...]:
    """Find each message's content in the text: in order where possible, anywhere unclaimed otherwise.

    Templates may trim content or move it (Mistral puts the system text into the last user turn), so a
    message the template rewrote gets no span rather than a wrong one.
    """
    byte_starts = _token_byte_starts(tokens)
    to_token = _char_to_token(text, byte_starts)
    claimed: list[tuple[int, int]] = []
    spans: list[Span | None] = []
    cursor = 0
    for index, message in enumerate(messages):
        needle = message.content.strip()
        if not needle:
            spans.append(None)
            continue
        start = _find_unclaimed(text, needle, cursor, claimed)
        if start < 0:
            start = _find_unclaimed(text, needle, 0, claimed)
        if start < 0:
            spans.append(None)
            continue
        end = start + len(needle)
        claimed.append((start, end))
        cursor = max(cursor, end)
        spans.append(Span(index, message.role, start, end, to_token(start), to_token(end - 1) + 1))
    return tuple(spans)


def _find_unclaimed(text: str, needle: str, start: int, claimed: list[tuple[int, int]]) -> int:
    pos = text.find(needle, start)
    while pos >= 0:
        if all(pos >= e or pos + len(needle) <= s for s, e in claimed):
            return pos
        pos = text.find(needle, pos + 1)
    return -1


def _token_byte_starts(tokens: Sequence[Token]) -> list[int]:
    starts, offset = [], 0
    for token in tokens:
        starts.append(offset)
        offset += len(token.piece)
    return starts


def _char_to_token(text: str, byte_starts: list[int]) -> Callable[[int], int]:
    """Map a character index to the index of the token holding its first byte."""

    def lookup(char_index: int) -> int:
        byte_index = len(text[:char_index].encode("utf-8"))
        return max(0, bisect.bisect_right(byte_starts, byte_index) - 1)

    return lookup
