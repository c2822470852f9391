"""The conversation: user messages, streamed replies, and notices (new session, errors, drops)."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from tui.core.engine import ReplyStats

STOP_LABELS = {
    "end_of_turn": "end of turn",
    "max_tokens": "reached the token limit",
    "context_full": "context full",
    "cancelled": "stopped",
}


class UserMessage(Static):
    """What the user typed, shown as typed (no Markdown: nothing of it is reinterpreted)."""

    def __init__(self, text: str) -> None:
        super().__init__(text, markup=False)


class Reply(Markdown):
    """One reply, streamed through Textual's Markdown stream and rendered whole once finished."""

    def __init__(self) -> None:
        super().__init__("")
        self._parts: list[str] = []
        self._stream: MarkdownStream | None = None

    @property
    def text(self) -> str:
        return "".join(self._parts)

    async def add(self, fragment: str) -> None:
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        self._parts.append(fragment)
        await self._stream.write(fragment)

    async def finish(self) -> None:
        """Stop the stream and render the whole text once: a stream cut mid-fence renders wrong."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        await self.update(self.text)


class ReplyFooter(Static):
    """A dim line under a reply: how it ended and how fast it was."""

    def __init__(self, stats: ReplyStats) -> None:
        parts = [
            STOP_LABELS.get(stats.stop, stats.stop),
            f"{stats.completion_tokens} tokens",
            f"first token {stats.time_to_first_token:.2f}s",
        ]
        if stats.tokens_per_second:
            parts.append(f"{stats.tokens_per_second:.1f} tok/s")
        parts.append(f"seed {stats.seed}")
        classes = "stopped" if stats.stop == "cancelled" else ""
        super().__init__(" · ".join(parts), markup=False, classes=classes)


class Notice(Static):
    """A line from llm-tui itself (not the model): session markers, dropped turns, errors."""

    def __init__(self, text: str, kind: str) -> None:
        super().__init__(text, markup=False, classes=kind)


class Conversation(VerticalScroll):
    """Follows the newest text unless the user has scrolled up (Textual's anchor)."""

    def on_mount(self) -> None:
        self.anchor()
