"""The exact hidden prompt: rendered text, the tokens fed to the model, and where each message sits.

A `Prompt` is built once and then both shown (``llm-tui prompt``, the inspector) and generated from, so
what the user inspects is by construction what the model receives.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple, Protocol

from tui.core.problems import ProblemError
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


class ControlToken(NamedTuple):
    """A control token's id, and whether llama.cpp strips blank space on its left or right."""

    id: int
    lstrip: bool = False
    rstrip: bool = False


class Tokenizer(Protocol):
    """What prompt building needs from a model's vocabulary."""

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        """Text to ids, no BOS added; ``special`` parses control-token text into control tokens."""
        ...

    def piece(self, token: int) -> bytes: ...

    def is_special(self, token: int) -> bool: ...

    def control_tokens(self) -> Mapping[str, ControlToken]:
        """Every control token by its text: what a template may write and a message may not."""
        ...


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


_HOLE = "\ue000{}\ue001"
_HOLES = re.compile("\ue000(\\d+)\ue001")


def content_regions(
    template: ChatTemplate,
    messages: Sequence[Message],
    add_generation_prompt: bool,
    text: str,
    continue_final: bool = False,
    controls: Sequence[str] = (),
) -> list[tuple[int, int]]:
    """Where text from outside sits in ``text``: each message's content, a reply's raw text and
    thinking, and the persona's string ``[template]`` values, found by rendering with placeholders.

    The template is rendered once more with every such text replaced by a marker; what lies
    between the markers is the template's own text. When the template changes the text it is given
    (a case change, a ``replace``, a slice), the markers cannot be followed: the contents are then
    searched for, and if control-token text (any of ``controls``) remains outside what was found
    that the template alone did not write, the prompt is refused rather than guessed at
    (`TemplateRenderError`, kind ``"forged"``).
    """
    fields: list[str] = []

    def hole(value: str) -> str:
        fields.append(value)
        return _HOLE.format(len(fields) - 1)

    holed = [
        replace(
            m,
            content=hole(m.content),
            written=None if m.written is None else hole(m.written),
            thinking=None if m.thinking is None else hole(m.thinking),
        )
        for m in messages
    ]
    values = {k: hole(v) if isinstance(v, str) and v else v for k, v in template.variables}
    if not any(fields):
        return []
    try:
        skeleton: str | None = template.with_variables(values).render(
            holed, add_generation_prompt, continue_final=continue_final
        )
    except TemplateRenderError:
        skeleton = None
    parts = _HOLES.split(skeleton or "")
    for strip in (False, True):
        regions: list[tuple[int, int]] = []
        pos = 0
        for k in range(0, len(parts) - 1, 2):
            literal, index = parts[k], int(parts[k + 1])
            if index >= len(fields) or not text.startswith(literal, pos):
                break
            content = fields[index].strip() if strip else fields[index]
            pos += len(literal)
            if not text.startswith(content, pos):
                break
            regions.append((pos, pos + len(content)))
            pos += len(content)
        else:
            if skeleton is not None and text[pos:] == parts[-1]:
                return regions
    regions = [(s.start, s.end) for s in _char_spans(text, messages) if s is not None]
    _refuse_forgery(template.name, text, regions, skeleton, controls, fields)
    return regions


def _refuse_forgery(
    name: str,
    text: str,
    regions: Sequence[tuple[int, int]],
    skeleton: str | None,
    controls: Sequence[str],
    fields: Sequence[str],
) -> None:
    """The template could not be followed: refuse when control-token text outside the regions
    may have come from outside text rather than from the template itself."""
    if not controls:
        return
    pattern = re.compile("|".join(re.escape(c) for c in sorted(controls, key=len, reverse=True) if c))
    masked = list(text)
    for start, end in regions:
        masked[start:end] = "\x00" * (end - start)
    found = Counter(pattern.findall("".join(masked)))
    if skeleton is not None:
        own = Counter(pattern.findall(_HOLES.sub("", skeleton)))
        extra = sorted(c for c in found if found[c] > own[c])
    else:  # the template failed on placeholders: only text free of control spellings is safe
        folded = [f.casefold() for f in fields]
        extra = sorted(c for c in found if any(c.casefold() in f for f in folded))
    if extra:
        raise TemplateRenderError(
            name,
            f"it changes the text it is given in a way llm-tui cannot follow, and the result holds "
            f"control-token text ({extra[0]}) that may come from a message or a persona value, not "
            "from the template; refused rather than guessed (a persona may opt in with parse_special)",
            "forged",
        )


def tokenize_guarded(
    text: str, regions: Sequence[tuple[int, int]], tokenizer: Tokenizer
) -> tuple[list[int], tuple[tuple[int, int], ...]]:
    """Ids for ``text`` where control tokens come only from outside ``regions`` (the messages).

    Mirrors llama.cpp's own partitioning (longest control token first, with its left/right strip
    rules), then tokenizes each stretch of text between them without parsing special tokens. For a
    conversation with no special-looking text in it, the ids equal whole-text tokenization.
    Also returns where message text looked like a control token (kept as text).
    """
    controls = tokenizer.control_tokens()
    masked = list(text)
    for start, end in regions:
        masked[start:end] = "\x00" * (end - start)
    visible = "".join(masked)
    literal = sorted(
        (start + i, start + i + len(name))
        for start, end in regions
        for name in controls
        for i in _occurrences(text[start:end], name)
    )
    # fragments: (start, end, token id or None for text)
    fragments: list[tuple[int, int, ControlToken | None]] = [(0, len(text), None)]
    for name in sorted(controls, key=len, reverse=True):
        if not name or name not in visible:
            continue
        split: list[tuple[int, int, ControlToken | None]] = []
        for start, end, token in fragments:
            if token is not None:
                split.append((start, end, token))
                continue
            cursor = start
            for i in _occurrences(visible[start:end], name):
                at = start + i
                if at < cursor:
                    continue
                split.append((cursor, at, None))
                split.append((at, at + len(name), controls[name]))
                cursor = at + len(name)
            split.append((cursor, end, None))
        fragments = split
    ids: list[int] = []
    for index, (start, end, token) in enumerate(fragments):
        if token is not None:
            ids.append(token.id)
            continue
        piece = text[start:end]
        before = fragments[index - 1][2] if index > 0 else None
        after = fragments[index + 1][2] if index + 1 < len(fragments) else None
        if before is not None and before.rstrip:
            piece = piece.lstrip(_BLANK)
        if after is not None and after.lstrip:
            piece = piece.rstrip(_BLANK)
        if piece:
            ids.extend(tokenizer.tokenize(piece, special=False))
    return ids, tuple(literal)


_BLANK = " \t\n\v\f\r"


def _occurrences(text: str, needle: str) -> list[int]:
    found, at = [], text.find(needle)
    while at >= 0:
        found.append(at)
        at = text.find(needle, at + len(needle))
    return found


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
    """Find each message's content in the text: in order where possible, anywhere unclaimed otherwise.

    Templates may trim content or move it (Mistral puts the system text into the last user turn), so a
    message the template rewrote gets no span rather than a wrong one.
    """
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
        spans.append(Span(index, message.role, start, end, 0, 0))
    return spans


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
