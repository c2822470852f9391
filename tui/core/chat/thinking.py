"""Thinking apart from the answer, while a reply streams.

A reasoning model's thinking is only more generated text; its template and training decide how it
is marked: ``<think>…</think>`` (Qwen3, SmolLM3, the DeepSeek-R1 distills; the distills' generation
prompt already opens the block, so their reply starts inside it), or gpt-oss's harmony channels
(``<|channel|>analysis<|message|>…<|end|>``, then ``<|start|>assistant<|channel|>final<|message|>…``).
The splitter reads the text as it comes, in pieces of any size: a marker split across tokens is held
back until it is whole, and a block never closed (a reply stopped mid-thought) stays thinking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["answer", "thinking", "markup"]
"""``markup``: the markers themselves (``<think>``, channel headers): neither thinking nor answer."""

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
HARMONY_CHANNEL, HARMONY_MESSAGE = "<|channel|>", "<|message|>"
HARMONY_ENDS = ("<|end|>", "<|return|>", "<|call|>")
HARMONY_START = "<|start|>"
THINKING_CHANNELS = ("analysis", "commentary")


Style = Literal["think", "harmony", "none"]


def opened_by_prompt(generation_prompt: str) -> bool:
    """Did the template's generation prompt open a thinking block the reply starts inside?"""
    return generation_prompt.rfind(THINK_OPEN) > generation_prompt.rfind(THINK_CLOSE)


@dataclass
class ThinkingSplitter:
    """Feed text as it streams; get back (kind, text) segments in order."""

    style: Style = "think"
    inside: bool = False
    """In a thinking block (``think``) or a thinking channel (``harmony``)."""
    _pending: str = ""
    _state: str = "body"
    """harmony: ``body``, ``header`` (a channel name), ``role`` (after ``<|start|>``)."""
    _channel: list[str] = field(default_factory=list)
    _strip_answer: bool = False

    def feed(self, text: str) -> list[tuple[Kind, str]]:
        if self.style == "none":
            return [("answer", text)] if text else []
        self._pending += text
        out: list[tuple[Kind, str]] = []
        while self._pending:
            markers = self._markers()
            at, marker = _first(self._pending, markers)
            if marker is None:
                keep = _partial_suffix(self._pending, markers)
                self._emit(out, self._pending[: len(self._pending) - keep])
                self._pending = self._pending[len(self._pending) - keep :]
                break
            self._emit(out, self._pending[:at])
            out.append(("markup", marker))
            self._pending = self._pending[at + len(marker) :]
            self._switch(marker)
        return [(kind, part) for kind, part in out if part]

    def finish(self) -> list[tuple[Kind, str]]:
        """The reply ended: what was held back (a marker never completed) is text after all."""
        out: list[tuple[Kind, str]] = []
        self._emit(out, self._pending)
        self._pending = ""
        return [(kind, part) for kind, part in out if part]

    def _markers(self) -> tuple[str, ...]:
        if self.style == "think":
            return (THINK_CLOSE,) if self.inside else (THINK_OPEN,)
        if self._state == "header":
            return (HARMONY_MESSAGE,)
        if self._state == "role":
            return (HARMONY_CHANNEL, HARMONY_MESSAGE)
        return (HARMONY_CHANNEL, HARMONY_START, *HARMONY_ENDS)

    def _emit(self, out: list[tuple[Kind, str]], text: str) -> None:
        if not text:
            return
        if self.style == "harmony" and self._state in ("header", "role"):
            if self._state == "header":
                self._channel.append(text)
            out.append(("markup", text))
            return
        if self._strip_answer and not self.inside:
            text = text.lstrip("\n")
            self._strip_answer = bool(not text)
        out.append(("thinking" if self.inside else "answer", text))

    def _switch(self, marker: str) -> None:
        if self.style == "think":
            self.inside = marker == THINK_OPEN
            self._strip_answer = marker == THINK_CLOSE
            return
        if marker == HARMONY_CHANNEL:
            self._state, self._channel = "header", []
        elif marker == HARMONY_MESSAGE:
            name = "".join(self._channel).strip()
            self.inside = name.split()[0] in THINKING_CHANNELS if name else False
            self._state = "body"
        elif marker == HARMONY_START:
            self._state = "role"
        else:  # the end of a message
            self._state = "body"


def _first(text: str, markers: tuple[str, ...]) -> tuple[int, str | None]:
    found = [(text.find(m), m) for m in markers if m in text]
    return min(found) if found else (-1, None)


def _partial_suffix(text: str, markers: tuple[str, ...]) -> int:
    """How many characters at the end of ``text`` could be the start of a marker."""
    best = 0
    for marker in markers:
        for size in range(min(len(marker) - 1, len(text)), best, -1):
            if marker.startswith(text[-size:]):
                best = size
                break
    return best
