"""Typed text stays text: control tokens come only from the template's own text, never from text
that came from outside (a message, a saved reply, a persona's values), whatever the template does
with it. Used by `tui.core.prompt.build` for every prompt that is not a persona's opt-in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import NamedTuple, Protocol

from tui.core.prompt.messages import Message
from tui.core.prompt.template import ChatTemplate, TemplateRenderError


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
    regions = [found for found in find_contents(text, messages) if found is not None]
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


def find_contents(text: str, messages: Sequence[Message]) -> list[tuple[int, int] | None]:
    """Find each message's content in the text: in order where possible, anywhere unclaimed otherwise.

    Templates may trim content or move it (Mistral puts the system text into the last user turn), so a
    message the template rewrote is not found rather than found in the wrong place.
    """
    claimed: list[tuple[int, int]] = []
    found: list[tuple[int, int] | None] = []
    cursor = 0
    for message in messages:
        needle = message.content.strip()
        start = _find_unclaimed(text, needle, cursor, claimed) if needle else -1
        if needle and start < 0:
            start = _find_unclaimed(text, needle, 0, claimed)
        if start < 0:
            found.append(None)
            continue
        end = start + len(needle)
        claimed.append((start, end))
        cursor = max(cursor, end)
        found.append((start, end))
    return found


def _find_unclaimed(text: str, needle: str, start: int, claimed: list[tuple[int, int]]) -> int:
    pos = text.find(needle, start)
    while pos >= 0:
        if all(pos >= e or pos + len(needle) <= s for s, e in claimed):
            return pos
        pos = text.find(needle, pos + 1)
    return -1
