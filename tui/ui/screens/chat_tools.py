"""What the chat screen offers beside the conversation itself: the inspector, token confidence,
the experiments, saved sessions, help and copying. A mixin, so the chat screen stays readable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import TextArea

from tui.ui.screens.experiments import MemoryTestScreen, ProbeScreen
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.sessions import SessionsView
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.conversation import Conversation, code_blocks, copy_to_clipboard
from tui.ui.widgets.inspector import Inspector

if TYPE_CHECKING:
    from tui.core.chat.sampling import Sampling
    from tui.core.chat.session import Chat
    from tui.ui.app import LlmTuiApp

INSPECT_DELAY = 0.15
"""Seconds of no typing before the inspector re-renders the next turn's prompt."""


class ChatTools(Screen[None]):
    """The chat screen's base: set up by `ChatScreen`, which owns the chat itself."""

    chat: Chat | None
    _confidence: bool
    _inspect_timer: Timer | None
    _persona_id: str

    @property
    def llm_app(self) -> LlmTuiApp:
        return self.app  # type: ignore[return-value]

    def settings(self) -> tuple[str | None, Sampling, bool]:
        """The system message and sampling a new session starts with (see `ChatScreen`)."""
        raise NotImplementedError

    def action_inspector(self) -> None:
        inspector = self.query_one(Inspector)
        inspector.display = not inspector.display
        self.inspect()

    def inspect(self) -> None:
        """Bring the inspector up to date (only while it is shown: it tokenizes the whole prompt)."""
        inspector = self.query_one(Inspector)
        if inspector.display and self.chat is not None:
            inspector.follow(self.chat, self.query_one(ChatInput).text)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """Re-render the next turn's prompt once typing pauses (only the message box counts)."""
        if event.text_area.id != "input":
            return
        if self._inspect_timer is not None:
            self._inspect_timer.stop()
        self._inspect_timer = self.set_timer(INSPECT_DELAY, self.inspect)

    def action_confidence(self) -> None:
        self._confidence = not self._confidence
        state = "on: replies are shaded by how likely each token was" if self._confidence else "off"
        self.notify(f"Token confidence {state}.")

    def action_probe(self) -> None:
        if self.chat is not None:
            _, sampling, _ = self.settings()
            self.app.push_screen(
                ProbeScreen(self.chat.engine, sampling, self.llm_app.personas, self._persona_id)
            )

    def action_memory_test(self) -> None:
        if self.chat is not None:
            system, sampling, _ = self.settings()
            self.app.push_screen(MemoryTestScreen(self.chat.engine, sampling, system))

    def action_sessions(self) -> None:
        self.app.push_screen(SessionsView())

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))

    def _last_reply_text(self) -> str | None:
        if self.chat is None or not self.chat.session.turns:
            self.notify("No reply to copy yet.", severity="warning")
            return None
        return self.chat.session.turns[-1].reply

    def action_copy_reply(self) -> None:
        text = self._last_reply_text()
        if text is not None:
            copy_to_clipboard(self.query_one(Conversation), text, "last reply")

    def action_copy_code(self) -> None:
        text = self._last_reply_text()
        if text is None:
            return
        blocks = code_blocks(text)
        if not blocks:
            self.notify("The last reply has no code block.", severity="warning")
            return
        copy_to_clipboard(self.query_one(Conversation), blocks[-1], "code block")
