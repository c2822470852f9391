"""The message box: several lines, ``enter`` sends, ``shift+enter`` or ``ctrl+j`` starts a new line.

It can hold an earlier message being edited: sending it then starts a new branch at that turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import events
from textual.message import Message
from textual.widgets import TextArea

if TYPE_CHECKING:
    from tui.core.chat.tree import Turn


class ChatInput(TextArea):
    @dataclass
    class Submitted(Message):
        text: str
        editing: Turn | None = None
        """The turn whose message this is an edit of (None: a new message)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder="Message the model: enter sends, shift+enter or ctrl+j adds a line",
            **kwargs,  # type: ignore[arg-type]
        )
        self.editing: Turn | None = None

    def edit_message(self, turn: Turn, number: int) -> None:
        """Hold ``turn``'s message (the ``number``-th on the path) for editing."""
        self.editing = turn
        self.border_title = f"editing message {number}: enter sends it as a new branch, escape cancels"
        self.load_text(turn.user)
        self.move_cursor(self.document.end)  # typing goes on where the message ends
        self.focus()

    def type_in(self, character: str) -> None:
        """A character typed while a message had focus: into the box, where typing belongs."""
        self.focus()
        self.insert(character)

    def give_back(self, submitted: ChatInput.Submitted) -> None:
        """A message that could not be sent yet comes back into the box, as it was (nothing typed
        is lost)."""
        if submitted.editing is not None:
            self.editing = submitted.editing
            self.border_title = "editing: enter sends it as a new branch, escape cancels"
        self.load_text(submitted.text)
        self.move_cursor(self.document.end)

    def stop_editing(self) -> None:
        if self.editing is not None:
            self.editing = None
            self.border_title = None
            self.clear()

    async def _on_key(self, event: events.Key) -> None:
        """Enter sends, shift+enter breaks the line. TextArea inserts keys in this private
        handler and Textual's own guide overrides it for that; a binding would come after the
        insert (tests/ui/test_textual_private.py fails if a release changes it)."""
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.post_message(self.Submitted(text, self.editing))
                self.editing, self.border_title = None, None
                self.clear()
            return
        if event.key in ("shift+enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        await super()._on_key(event)
