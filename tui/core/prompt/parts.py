"""What a prompt is made of: the system message, the template's own text, the history, the new
message and the generation prompt, each with its share of the tokens.

Every token belongs to exactly one part (the part holding its first byte), so the counts always add
up to the prompt's length.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

from tui.core.prompt.build import Prompt

KINDS = ("system", "template", "history", "thinking", "message", "generation", "reply")
LABELS = {
    "system": "system message",
    "template": "template's own text",
    "history": "earlier turns",
    "thinking": "earlier thinking, re-sent",
    "message": "the new message",
    "generation": "generation prompt",
    "reply": "the reply so far, continued",
}


@dataclass(frozen=True)
class Part:
    kind: str
    chars: int
    tokens: int

    @property
    def label(self) -> str:
        return LABELS[self.kind]


def char_kinds(prompt: Prompt) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, kind) ranges covering the whole text, in order."""
    marks: list[tuple[int, int, str]] = []
    last_user = max((i for i, m in enumerate(prompt.messages) if m.role == "user"), default=-1)
    # A reply being continued: an edited one left open (the last message), or ids fed back.
    open_reply = (
        len(prompt.messages) - 1 if prompt.messages and prompt.messages[-1].role == "assistant" else -1
    )
    for span in prompt.spans:
        if span is None:
            continue
        if span.role == "system":
            kind = "system"
        elif span.message == last_user:
            kind = "message"
        elif span.message == open_reply:
            kind = "reply"
        else:
            kind = "history"
        marks.append((span.start, span.end, kind))
    fed_back = prompt.fed_back[1] if prompt.fed_back is not None else len(prompt.text)
    if prompt.generation_start is not None:
        marks.append((prompt.generation_start, fed_back, "generation"))
    if fed_back < len(prompt.text):
        marks.append((fed_back, len(prompt.text), "reply"))
    marks.sort()
    ranges: list[tuple[int, int, str]] = []
    cursor = 0
    for start, end, kind in marks:
        start = max(start, cursor)
        if start > cursor:
            ranges.append((cursor, start, "template"))
        if end > start:
            ranges.append((start, end, kind))
            cursor = end
    if cursor < len(prompt.text):
        ranges.append((cursor, len(prompt.text), "template"))
    return _overlay(ranges, [(start, end, "thinking") for _n, start, end in resent_thinking(prompt)])


@dataclass(frozen=True)
class ThinkingFate:
    """What the template did with one earlier reply's thinking in this prompt."""

    reply: int
    """1 for the first reply of the prompt's conversation."""
    resent: bool
    chars: int
    """Characters of it in the prompt, or of what was dropped."""
    tokens: int = 0
    """Tokens of it in the prompt (0 when dropped: it is not there to count)."""


def resent_thinking(prompt: Prompt) -> list[tuple[int, int, int]]:
    """(reply number, start, end) of each earlier reply's thinking that the template sent again."""
    found, cursor, reply = [], 0, 0
    for message in prompt.messages:
        if message.role != "assistant":
            continue
        reply += 1
        thought = (message.thinking or "").strip()
        at = prompt.text.find(thought, cursor) if thought else -1
        if at >= 0:
            found.append((reply, at, at + len(thought)))
            cursor = at + len(thought)
    return found


def thinking_fates(prompt: Prompt) -> list[ThinkingFate]:
    """For every earlier reply that thought: re-sent by the template, or dropped by it."""
    resent = {n: (start, end) for n, start, end in resent_thinking(prompt)}
    starts = _token_starts(prompt) if resent else []
    fates, reply = [], 0
    for message in prompt.messages:
        if message.role != "assistant":
            continue
        reply += 1
        if not message.thinking:
            continue
        if reply in resent:
            start, end = resent[reply]
            tokens = bisect.bisect_left(starts, end) - bisect.bisect_left(starts, start)
            fates.append(ThinkingFate(reply, True, end - start, tokens))
        else:
            fates.append(ThinkingFate(reply, False, len(message.thinking.strip())))
    return fates


def _token_starts(prompt: Prompt) -> list[int]:
    """The character where each token of the prompt starts, in order."""
    char_of_byte, offset, starts = _byte_to_char(prompt.text), 0, []
    for token in prompt.tokens:
        starts.append(char_of_byte(offset))
        offset += len(token.piece)
    return starts


def _overlay(
    ranges: list[tuple[int, int, str]], over: list[tuple[int, int, str]]
) -> list[tuple[int, int, str]]:
    """``ranges`` with the ``over`` ranges cut in (they win where they overlap)."""
    for o_start, o_end, o_kind in over:
        cut: list[tuple[int, int, str]] = []
        for start, end, kind in ranges:
            if end <= o_start or start >= o_end:
                cut.append((start, end, kind))
                continue
            if start < o_start:
                cut.append((start, o_start, kind))
            if end > o_end:
                cut.append((o_end, end, kind))
        cut.append((o_start, o_end, o_kind))
        ranges = sorted(cut)
    return ranges


def parts(prompt: Prompt) -> list[Part]:
    """One entry per kind present, with its token count; the counts add up to ``len(prompt)``."""
    ranges = char_kinds(prompt)
    starts = [r[0] for r in ranges]
    counts = dict.fromkeys(KINDS, 0)
    chars = dict.fromkeys(KINDS, 0)
    for start, end, kind in ranges:
        chars[kind] += end - start
    byte_offset = 0
    char_of_byte = _byte_to_char(prompt.text)
    for token in prompt.tokens:
        char = char_of_byte(byte_offset)
        kind = ranges[max(0, bisect.bisect_right(starts, char) - 1)][2] if ranges else "template"
        counts[kind] += 1
        byte_offset += len(token.piece)
    return [Part(k, chars[k], counts[k]) for k in KINDS if counts[k] or chars[k]]


def _byte_to_char(text: str) -> Callable[[int], int]:
    """Map a UTF-8 byte offset of ``text`` to a character index."""
    boundaries = []
    offset = 0
    for char in text:
        boundaries.append(offset)
        offset += len(char.encode("utf-8"))

    def lookup(byte_offset: int) -> int:
        return max(0, bisect.bisect_right(boundaries, byte_offset) - 1)

    return lookup


def appended_from(previous: str, current: str) -> int:
    """How much of ``current`` was already there in ``previous`` (the common prefix, in characters)."""
    length = 0
    for a, b in zip(previous, current, strict=False):
        if a != b:
            break
        length += 1
    return length


INJECTED_MIN_WORDS = 3


def token_char_ranges(prompt: Prompt) -> list[tuple[int, int]]:
    """Each token's (start, end) in characters of the text (a token cut inside a character gets
    the whole character, the next one an empty range)."""
    to_char = _byte_to_char(prompt.text)
    ranges, offset = [], 0
    starts = []
    for token in prompt.tokens:
        starts.append(to_char(offset))
        offset += len(token.piece)
    ends = starts[1:] + [len(prompt.text)]
    for start, end in zip(starts, ends, strict=True):
        ranges.append((start, max(start, end)))
    return ranges


def injected_ranges(
    prompt: Prompt,
    kinds: list[tuple[int, int, str]] | None = None,
    token_ranges: list[tuple[int, int]] | None = None,
) -> list[tuple[int, int]]:
    """Text the template wrote on its own, beyond markers and role names: a default system
    message, a knowledge cutoff, today's date. These are the parts nobody typed.

    ``kinds`` and ``token_ranges`` may be passed when the caller has them already."""
    token_ranges = token_ranges if token_ranges is not None else token_char_ranges(prompt)
    special = [r for r, t in zip(token_ranges, prompt.tokens, strict=True) if t.special]
    found = []
    for start, end, kind in kinds if kinds is not None else char_kinds(prompt):
        if kind != "template":
            continue
        cursor = start
        for s, e in [*[r for r in special if start <= r[0] < end], (end, end)]:
            found += _wordy_lines(prompt.text, cursor, s)
            cursor = max(cursor, e)
    return found


def _wordy_lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The stretch from the first to the last line of ``text[start:end]`` that reads like prose
    (role names and blank lines around it are markers, not injected text)."""
    lines, offset = [], start
    for line in text[start:end].splitlines(keepends=True):
        if len(line.split()) >= INJECTED_MIN_WORDS:
            lines.append((offset, offset + len(line.rstrip())))
        offset += len(line)
    return [(lines[0][0] + _lead(text, lines[0][0]), lines[-1][1])] if lines else []


def _lead(text: str, index: int) -> int:
    return len(text[index:]) - len(text[index:].lstrip(" \t"))
