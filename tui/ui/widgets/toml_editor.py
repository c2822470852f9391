"""A TOML text area that can mark one line as the line with the error."""

from __future__ import annotations

from dataclasses import replace

from rich.style import Style
from textual.reactive import reactive
from textual.widgets import TextArea
from textual.widgets.text_area import TextAreaTheme

ERROR_HIGHLIGHT = "llm-tui.error"
THEME_NAME = "llm-tui-toml"


class TomlEditor(TextArea):
    error_line: reactive[int | None] = reactive(None)
    """1-based line to mark, or None."""

    def __init__(self, text: str, **kwargs: object) -> None:
        super().__init__(
            text,
            language="toml",
            soft_wrap=False,
            tab_behavior="indent",
            show_line_numbers=True,
            **kwargs,  # type: ignore[arg-type]
        )

    def on_mount(self) -> None:
        base = TextAreaTheme.get_builtin_theme("monokai") or TextAreaTheme("fallback")
        styles = {**base.syntax_styles, ERROR_HIGHLIGHT: Style(bgcolor="#5f0000", underline=True)}
        self.register_theme(replace(base, name=THEME_NAME, syntax_styles=styles))
        self.theme = THEME_NAME

    def watch_error_line(self) -> None:
        self._build_highlight_map()
        self.refresh()

    def _build_highlight_map(self) -> None:
        """The syntax highlights, plus the whole error line."""
        super()._build_highlight_map()
        if self.error_line is not None and 0 < self.error_line <= self.document.line_count:
            self._highlights[self.error_line - 1].append((0, None, ERROR_HIGHLIGHT))
