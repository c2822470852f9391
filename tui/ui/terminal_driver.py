"""Textual's terminal driver, made to outlive its terminal.

When the terminal closes under the app (a window closed, a connection dropped), every write fails.
Textual writes from a thread of its own, which dies on the first failure; its queue then fills and
the next frame blocks the app for ever, so the quit that would save the turn never runs. Here a
failed write marks the terminal gone and drops the text: the app notices (SIGHUP, or its own check)
and ends as ctrl+q would.
"""

from __future__ import annotations

from typing import Any, TextIO

from textual.drivers.linux_driver import LinuxDriver


class GoneSafe:
    """A text stream whose writes never raise: once one fails, the rest are dropped."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                self._stream.write(text)
            except (OSError, ValueError):
                self.gone = True
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self.gone = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class OutlivingDriver(LinuxDriver):
    """`LinuxDriver` writing through `GoneSafe` (its ``_file`` is the one private name used;
    tests/ui/test_textual_private.py pins it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self._file is not None:
            self._file = GoneSafe(self._file)  # type: ignore[assignment]
