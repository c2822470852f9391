"""The exact hidden prompt: rendered text, the tokens fed to the model, and where each message sits.

A `Prompt` is built once and then both shown (``llm-tui prompt``, the inspector) and generated from, so
what the user inspects is by construction what the model receives.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from tui.core.problems import ProblemError
from tui.core.prompt.guard import ControlToken as ControlToken  # re-exported: engines name it here
from tui.core.prompt.guard import Tokenizer as Tokenizer
from tui.core.prompt.guard import content_regions, find_contents, tokenize_guarded
from tui.core.prompt.messages import Message
from tui.core.prompt.template import ChatTemplate, TemplateRenderError

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
    literal_specials: tuple[tuple[int, int], ...] = field(default=())
    """Character ranges of message text that looks like a special token but was kept as text."""
    parse_special: bool = False
    """True when the persona opted in: special tokens typed in messages became control tokens."""
    thinking_format: Literal["think", "harmony", "none"] = "none"
    """How the template's model marks thinking in its replies (see tui.core.chat.thinking)."""
    variables: tuple[tuple[str, object], ...] = ()
    """The template variables it was rendered with."""
    fed_back: tuple[int, int] | None = None
    """(token, character) where tokens the model generated itself begin, fed back as they were
    (a reply continued from a runner-up token): ids, not text rendered and tokenized again."""

    @property
    def generation_prompt(self) -> str:
        """The text the template added to cue the reply (empty when it added none)."""
        if self.generation_start is None:
            return ""
        end = len(self.text) if self.fed_back is None else self.fed_back[1]
        return self.text[self.generation_start : end]

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
            "parse_special": self.parse_special,
            "typed_specials_kept_as_text": [list(r) for r in self.literal_specials],
            "text": self.text,
            "messages": [m.as_dict() for m in self.messages],
            "tokens": [{"id": t.id, "piece": t.text, "special": t.special} for t in self.tokens],
            "generated_tokens_fed_back_from": self.fed_back[0] if self.fed_back else None,
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


def extended(prompt: Prompt, ids: Sequence[int], tokenizer: Tokenizer) -> Prompt:
    """``prompt`` followed by ``ids`` the model generated, to be fed back exactly as they are."""
    added = tuple(Token(i, tokenizer.piece(i), tokenizer.is_special(i)) for i in ids)
    text = prompt.text + b"".join(t.piece for t in added).decode("utf-8", errors="replace")
    start = prompt.fed_back or (len(prompt.tokens), len(prompt.text))
    return replace(prompt, text=text, tokens=prompt.tokens + added, fed_back=start)


class ConversationTooLong(ProblemError):
    """The messages alone are longer than any prompt for this context (the chat drops old turns)."""


def build_prompt(
    template: ChatTemplate,
    messages: Sequence[Message],
    tokenizer: Tokenizer,
    add_generation_prompt: bool = True,
    parse_special: bool = False,
    continue_final: bool = False,
) -> Prompt:
    """Render ``messages`` with ``template`` and tokenize the result exactly as it will be fed.

    ``continue_final`` leaves the last message (an assistant reply the user edited) open, as
    transformers' ``continue_final_message``: the model goes on from its last character.

    Only the template's own markup becomes control tokens: message text (typed, pasted, from a
    persona) that looks like ``<|im_end|>`` stays plain text, unless ``parse_special`` (a persona's
    opt-in) says otherwise.
    """
    chars = sum(
        len(m.written) if m.written is not None else len(m.content) + len(m.thinking or "") for m in messages
    )
    if chars > template.output_limit:  # said as what it is, not as the template's output limit
        raise ConversationTooLong(
            f"the conversation (system message included) is {chars:,} characters: more than a "
            f"context of {template.n_ctx:,} tokens can hold"
        )
    notes: list[str] = []
    if template.variables:
        read = template.variables_read()
        notes += [
            f"The template does not read `{name}`: setting it changes nothing for this model."
            for name, _value in template.variables
            if name not in read
        ]
    if template.is_fallback:
        notes.append(f"No chat template in the model file; using the {template.name}.")
    rendered = list(messages)
    add_generation_prompt = add_generation_prompt and not continue_final
    try:
        text = template.render(rendered, add_generation_prompt, continue_final=continue_final)
    except TemplateRenderError as exc:
        folded = fold_system(messages)
        if folded is None or exc.kind != "template":
            raise
        rendered = folded
        text = template.render(rendered, add_generation_prompt, continue_final=continue_final)
        notes.append(FOLD_NOTE)
    generation_start = None
    if add_generation_prompt:
        without = template.render(rendered, add_generation_prompt=False)
        if text.startswith(without) and len(text) > len(without):
            generation_start = len(without)
    literal: tuple[tuple[int, int], ...] = ()
    if parse_special:
        ids = tokenizer.tokenize(text, special=True)
        notes.append("This persona has parse_special = true: special tokens typed in messages are real.")
    else:
        regions = content_regions(
            template, rendered, add_generation_prompt, text, continue_final, list(tokenizer.control_tokens())
        )
        ids, literal = tokenize_guarded(text, regions, tokenizer)
    tokens = tuple(Token(i, tokenizer.piece(i), tokenizer.is_special(i)) for i in ids)
    spans = _locate(text, messages, tokens)
    return Prompt(
        text,
        tokens,
        tuple(messages),
        spans,
        template.name,
        tuple(notes),
        generation_start,
        literal,
        parse_special,
        template.thinking_format,
        template.variables,
    )


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
    """Each message's content in the text, with the tokens that cover it."""
    byte_starts = _token_byte_starts(tokens)
    to_token = _char_to_token(text, byte_starts)
    return tuple(
        None if s is None else replace(s, first_token=to_token(s.start), end_token=to_token(s.end - 1) + 1)
        for s in _char_spans(text, messages)
    )


def _char_spans(text: str, messages: Sequence[Message]) -> list[Span | None]:
    """Each message's content found in the text (`tui.core.prompt.guard.find_contents`), as spans."""
    return [
        None if found is None else Span(index, message.role, found[0], found[1], 0, 0)
        for index, (message, found) in enumerate(zip(messages, find_contents(text, messages), strict=True))
    ]


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
