"""The one step between every widget and the terminal: nothing drawn can drive the terminal.

Replies, persona names, a server's model name and notifications come from outside. Textual writes
what widgets render as it is, so an escape sequence in a reply would clear the screen, retitle the
window or write the clipboard (OSC 52). Every rendered line passes this filter on its way out, the
same way Textual's own colour filters do, so no widget can forget it.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from tui.core.text_safety import screen_cells


class TerminalSafe(LineFilter):
    """Drops control and bidi characters from segment text; lone surrogates become U+FFFD."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        out = segments
        for index, segment in enumerate(segments):
            if segment.control:
                continue
            safe = screen_cells(segment.text)
            if safe is not segment.text:
                if out is segments:
                    out = list(segments)
                out[index] = Segment(safe, segment.style, segment.control)
        return out
