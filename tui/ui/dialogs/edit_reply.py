"""Edit a reply (or a stopped one) and let the model continue from the last character of the edit."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from tui.ui.actions import bindings

EXPLAIN = (
    "Edit the model's reply. ctrl+s: the model goes on from the last character you leave (the "
    "reply is sent back open, not closed by the template); escape: keep it as it is. The old "
    "reply stays as a sibling."
)


class EditReply(ModalScreen[str | None]):
    """Returns the edited reply, or None when cancelled."""

    BINDINGS = bindings("reply_editor")

    def __init__(self, reply: str) -> None:
        super().__init__(classes="dialog")
        self._reply = reply

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-reply"):
            yield Static(Text(EXPLAIN), classes="explain")
            yield TextArea(self._reply, id="edited-reply", soft_wrap=True, show_line_numbers=False)

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_done(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)
