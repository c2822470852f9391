"""Text from files and models, made safe to show: control characters become visible.

A persona's name can carry an OSC sequence that retitles the window or an escape that clears the
screen; a model can emit them too. Where text goes to a terminal, control characters are replaced by
their Unicode control pictures (ESC becomes "␛"); where it goes to a pipe or a file (``--json``,
``> out.txt``) it stays byte-exact, since scripts need what was really there.
"""

from __future__ import annotations

import codecs
import re
from typing import TextIO

_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f{_BIDI}]")


def _picture(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟, ESC is ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"  # C1 controls and bidi overrides have no picture


def _one_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7F else "\u2426"  # ␦ for C1 controls and bidi overrides


def same_length_visible(text: str) -> str:
    """`visible_controls`, one character for one, so styles laid on ``text`` still line up."""
    return _CONTROL.sub(_one_char, text)


def visible_controls(text: str, keep_newlines: bool = True) -> str:
    """Every control character as something you can see; newlines and tabs stay unless asked."""
    shown = _CONTROL.sub(_picture, text)
    if not keep_newlines:
        shown = shown.replace("\n", "\u2424").replace("\t", "\u2409")
    return shown


_SCREEN_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")


def _screen_char(match: re.Match[str]) -> str:
    return "\ufffd" if match.group(0) >= "\ud800" else ""


def screen_cells(text: str) -> str:
    """Text about to be drawn in cells, with nothing left that a terminal would act on.

    Control and bidi characters take no cell, so they go (the layout already gave them none); a
    lone surrogate takes one and cannot be encoded, so it becomes U+FFFD. This is the last step
    before the terminal; the screens show these characters as pictures before they get here.
    """
    return _SCREEN_UNSAFE.sub(_screen_char, text) if _SCREEN_UNSAFE.search(text) else text


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """``text`` with each lone surrogate (from a model's broken bytes or a hostile file) as U+FFFD,
    so it can be shown, encoded and saved."""
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


OUTPUT_ERRORS = "llm-tui-output"
"""The encoding error handler of llm-tui's stdout and stderr (see `_output_errors`)."""


def _output_errors(error: UnicodeError) -> tuple[str | bytes, int]:
    """What cannot be encoded for the terminal: a name's own bytes where it was not UTF-8 (as
    ``surrogateescape`` wrote it, and as ls prints it); anything else as a replacement character.
    Printing never crashes on what a file or a peer held."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    piece = error.object[error.start : error.end]
    if all("\udc80" <= char <= "\udcff" for char in piece):
        return bytes(ord(char) - 0xDC00 for char in piece), error.end
    return "?" * len(piece) if "ascii" in error.encoding.lower() else "\ufffd" * len(piece), error.end


codecs.register_error(OUTPUT_ERRORS, _output_errors)


def has_controls(text: str) -> bool:
    return _CONTROL.search(text) is not None


def terminal_safe(text: str, stream: TextIO) -> str:
    """``text`` as is for a pipe or a file; with visible control characters for a terminal."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError, OSError):
        tty = False
    return visible_controls(text) if tty else text


class TerminalStream:
    """stdout or stderr when it is a terminal: whatever is written shows its control characters
    as pictures, so no string from a file or a peer (a GGUF's architecture, a server's build, a
    catalog's licence) can drive the terminal, whichever command prints it. llm-tui's own escapes
    (colours, a progress bar's carriage return) go through `deliberate`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(visible_controls(text))

    def deliberate(self, text: str) -> int:
        return self._stream.write(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def deliberate(stream: TextIO, text: str) -> None:
    """Write llm-tui's own control sequences (``text`` holds nothing from outside unmade visible)."""
    write = getattr(stream, "deliberate", None)
    (write or stream.write)(text)
