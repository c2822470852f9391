"""The smallest Textual app: the baseline for llm-tui's first frame in bench/startup.py."""

from textual.app import App, ComposeResult
from textual.widgets import Static


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("first frame")


if __name__ == "__main__":
    Minimal().run()
