"""The conversation: one container per turn (message, streamed reply, its stats), plus notices."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Collapsible, Static

from tui.core.engine.values import ReplyStats
from tui.ui.actions import bindings

if TYPE_CHECKING:
    from textual.widgets import Markdown

STOP_LABELS = {
    "end_of_turn": "end of turn",
    "max_tokens": "reached the token limit",
    "context_full": "context full",
    "cancelled": "stopped",
}
CODE_BLOCK = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
DROPPED_TEXT = (
    "↑ {count} earlier turn(s) no longer fit the context: the model does not see them any more. "
    "Everything below is still sent with every message."
)


def code_blocks(text: str) -> list[str]:
    return [block.rstrip("\n") for block in CODE_BLOCK.findall(text)]


COPY_BINDINGS: list[BindingType] = bindings("message")


class Copyable:
    """Messages the user can focus (tab) and copy with ``c``, or copy their code with ``k``."""

    def copy_text(self) -> str:
        raise NotImplementedError

    def action_copy(self) -> None:
        copy_to_clipboard(self, self.copy_text(), "message")  # type: ignore[arg-type]

    def action_copy_code(self) -> None:
        blocks = code_blocks(self.copy_text())
        if not blocks:
            self.app.notify("No code block in this message.", severity="warning")  # type: ignore[attr-defined]
            return
        copy_to_clipboard(self, blocks[-1], "code block")  # type: ignore[arg-type]


def copy_to_clipboard(widget: Widget, text: str, what: str) -> None:
    """Through the terminal (OSC 52), with feedback: many terminals honour it, some ignore it."""
    widget.app.copy_to_clipboard(text)
    widget.app.notify(f"Copied the {what} ({len(text)} characters) to the clipboard.")


class UserMessage(Copyable, Static, can_focus=True):
    """What the user typed, shown as typed (no Markdown: nothing of it is reinterpreted)."""

    BINDINGS: ClassVar[list[BindingType]] = COPY_BINDINGS

    def __init__(self, text: str) -> None:
        super().__init__(text, markup=False)
        self.text = text

    def copy_text(self) -> str:
        return self.text


class Reply(Copyable, Vertical, can_focus=True):
    """One reply, streamed into Textual's Markdown widget with `Markdown.append`.

    The reply stream already batches text (see reply_stream), so fragments are appended directly
    rather than through a `MarkdownStream`, whose own queue would let the screen report a batch as
    painted before it was even parsed.

    Only the tail of a long reply stays a live `Markdown` widget. Completed blocks further up are
    handed to one `Static` each (rendered once, height cached), because Textual lays out every
    widget on every refresh: a reply that stayed one growing Markdown tree would cost more per
    token the longer it got.
    """

    BINDINGS: ClassVar[list[BindingType]] = COPY_BINDINGS

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[str] = []
        self._live_text = ""
        self.thinking: ThinkingBlock | None = None
        self.live: Markdown

    def compose(self) -> ComposeResult:
        # Imported with the first reply: markdown-it and Rich's Markdown cost the first frame ~30 ms.
        from textual.widgets import Markdown

        self.live = Markdown("", classes="live")
        yield self.live

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def copy_text(self) -> str:
        return self.text

    async def think(self, text: str, tokens: int) -> None:
        """More thinking: into a dimmed block above the answer, which folds once the answer starts."""
        if self.thinking is None:
            self.thinking = ThinkingBlock()
            await self.mount(self.thinking, before=0)
        self.thinking.add(text, tokens)

    async def add(self, fragment: str) -> None:
        if not fragment:
            return
        if self.thinking is not None:
            self.thinking.answer_started()
        self._parts.append(fragment)
        self._live_text += fragment
        if len(self._live_text) >= FREEZE_CHARS:
            cut = safe_cut(self._live_text)
            if cut > 0:
                await self._freeze(cut)
                return
        await self.live.append(fragment)

    async def _freeze(self, cut: int) -> None:
        """Move the first ``cut`` characters of the live text into a frozen segment."""
        done, self._live_text = self._live_text[:cut], self._live_text[cut:]
        segment = FrozenBlock(done)
        await self.mount(segment, before=self.live)
        await self.live.update(self._live_text)

    async def finish(self) -> None:
        """Render the live tail whole once: text appended in pieces (a fence cut open) can parse wrong."""
        if self.thinking is not None:
            self.thinking.reply_ended()
        await self.live.update(self._live_text)


clock = time.monotonic
"""How thinking is timed (a snapshot test swaps in a steady one)."""


class ThinkingBlock(Collapsible):
    """A reasoning model's thinking: only more generated text, shown dimmed and apart from the
    answer, with how many tokens and how long it took; folded once the answer starts."""

    def __init__(self) -> None:
        self.text = ""
        self.tokens = 0
        self._started = clock()
        self._seconds: float | None = None
        self.body = Static("", markup=False, classes="thinking-text")
        super().__init__(self.body, title="Thinking…", collapsed=False, classes="thinking")

    def add(self, text: str, tokens: int) -> None:
        self.text += text
        self.tokens = tokens
        self.body.update(self.text)
        self._retitle()

    def answer_started(self) -> None:
        if self._seconds is None:
            self._seconds = clock() - self._started
            self.collapsed = True
            self._retitle()

    def reply_ended(self) -> None:
        """The reply ended inside its thinking (stopped, or a model that never closed the block)."""
        if self._seconds is None:
            self._seconds = clock() - self._started
            self._retitle(" · no answer after it")

    def _retitle(self, more: str = "") -> None:
        took = f" · {self._seconds:.1f} s" if self._seconds is not None else ""
        still = "" if self._seconds is not None else "…"
        self.title = f"Thinking{still} · {self.tokens} tokens{took}{more}"


class FrozenBlock(Static):
    """Completed blocks of a long reply, rendered once with Rich (their Markdown text kept)."""

    def __init__(self, markdown: str) -> None:
        from rich.markdown import Markdown as RichMarkdown

        super().__init__(RichMarkdown(markdown), classes="frozen")
        self.markdown = markdown


FREEZE_CHARS = 600
"""Live Markdown text kept before completed blocks are frozen."""


def safe_cut(text: str) -> int:
    """The end of the last complete block outside a code fence (a blank line), or 0."""
    cut = text.rfind("\n\n")
    while cut > 0:
        if text.count("```", 0, cut) % 2 == 0:
            return cut + 2
        cut = text.rfind("\n\n", 0, cut)
    return 0


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
        if stats.reused_tokens:
            parts.append(f"{stats.reused_tokens} of {stats.prompt_tokens} prompt tokens from cache")
        classes = "stopped" if stats.stop == "cancelled" else ""
        super().__init__(" · ".join(parts), markup=False, classes=classes)


class Notice(Static):
    """A line from llm-tui itself (not the model): session markers, dropped turns, errors."""

    def __init__(self, text: str, kind: str) -> None:
        super().__init__(text, markup=False, classes=kind)


class TurnView(Vertical):
    """One exchange: the user's message, then the reply and its footer as they come."""

    def __init__(self, text: str) -> None:
        super().__init__(classes="turn")
        self.user_text = text
        self.reply: Reply | None = None

    def compose(self) -> ComposeResult:
        yield UserMessage(self.user_text)

    async def start_reply(self) -> Reply:
        self.reply = Reply()
        await self.mount(self.reply)
        return self.reply

    async def finish(self, stats: ReplyStats | None, error: str | None) -> None:
        if self.reply is not None:
            await self.reply.finish()
        if error and self.is_attached:  # (the app may be closing meanwhile: quit during a reply)
            await self.mount(Notice(f"No reply: {error}", "error"))
        if stats is not None and self.is_attached:
            await self.mount(ReplyFooter(stats))


class Conversation(VerticalScroll):
    def copy_last_reply(self, reply: str | None, code_only: bool = False) -> None:
        """Copy the last reply (or its last code block) through the terminal, saying what happened."""
        if reply is None:
            self.app.notify("No reply to copy yet.", severity="warning")
            return
        if not code_only:
            copy_to_clipboard(self, reply, "last reply")
            return
        blocks = code_blocks(reply)
        if not blocks:
            self.app.notify("The last reply has no code block.", severity="warning")
            return
        copy_to_clipboard(self, blocks[-1], "code block")

    """Follows the newest text unless the user has scrolled up (Textual's anchor)."""

    def on_mount(self) -> None:
        self.anchor()

    @property
    def turns(self) -> list[TurnView]:
        return list(self.query_children(TurnView))

    async def start_turn(self, text: str) -> TurnView:
        turn = TurnView(text)
        await self.mount(turn)
        return turn

    async def remove_last_turn(self) -> None:
        turns = self.turns
        if turns:
            await turns[-1].remove()

    async def mark_dropped(self, first_kept: int) -> None:
        """Dim the turns the model no longer sees and say so right below them, in place."""
        await self.query_children(".dropped-marker").remove()
        turns = self.turns
        for index, turn in enumerate(turns):
            turn.set_class(index < first_kept, "dropped")
        if 0 < first_kept <= len(turns):
            marker = Notice(DROPPED_TEXT.format(count=first_kept), "dropped")
            marker.add_class("dropped-marker")
            await self.mount(marker, after=turns[first_kept - 1])

    async def notice(self, text: str, kind: str) -> None:
        await self.mount(Notice(text, kind))
