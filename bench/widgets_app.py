"""The chat screen's Textual widgets and nothing of llm-tui: a floor for its first frame.

A header, a scrolling column over a text area, a status line and a footer with the chat screen's
visible keys, as bench/startup.py times it: what those widgets cost before any llm-tui code runs.
"""

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Static, TextArea

KEYS = (
    ("f1", "Help"),
    ("f2", "Hidden prompt"),
    ("escape", "Stop reply"),
    ("ctrl+n", "New session"),
    ("f3", "Personas"),
    ("f4", "Models"),
    ("ctrl+r", "Regenerate"),
)


class Widgets(App[None]):
    BINDINGS = [Binding(key, "bell", description) for key, description in KEYS]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical():
                yield VerticalScroll()
                yield TextArea()
        yield Static("status")
        yield Footer()


if __name__ == "__main__":
    Widgets().run()
