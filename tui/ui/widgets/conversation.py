"""The conversation: one view per turn of the current path (message, reply, its footer), plus notices.

Only the path the model is sent is shown; a message with siblings says which of them it is
(``‹ 2/3 ›``), and switching redraws the path from there down.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from tui.core.chat.session import started
from tui.core.chat.tree import Tree, Turn, Unanswered
from tui.core.engine.values import ReplyStats
from tui.ui.messages import ReplyChunk, ReplyFinished, ReplyStarted
from tui.ui.widgets.confidence_view import ConfidenceView
from tui.ui.widgets.message_views import Reply, UserMessage, code_blocks, copy_to_clipboard

if TYPE_CHECKING:
    from tui.core.chat.tree import Side

UNANSWERED_SHOWN = 400
"""Characters of an unanswered message drawn when its session is reopened."""
ORIGIN_NOTES = {
    "edited reply": "continued from your edit",
    "token": "continued from a runner-up token (marked in the confidence view)",
}
STOP_LABELS = {
    "end_of_turn": "end of turn",
    "max_tokens": "reached the token limit",
    "context_full": "context full",
    "cancelled": "stopped",
}
DROPPED_TEXT = (
    "↑ {count} earlier turn(s) no longer fit the context: the model does not see them any more. "
    "Everything below is still sent with every message."
)


class ReplyFooter(Static):
    """A dim line under a reply: how it ended and how fast it was."""

    def __init__(self, stats: ReplyStats, note: str = "") -> None:
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
        if note:
            parts.append(note)
        classes = "stopped" if stats.stop == "cancelled" else ""
        super().__init__(" · ".join(parts), markup=False, classes=classes)


class Notice(Static):
    """A line from llm-tui itself (not the model): session markers, dropped turns, errors."""

    def __init__(self, text: str, kind: str) -> None:
        super().__init__(text, markup=False, classes=kind)


class BranchLabel(Static):
    """``‹ 2/3 ›``: this message is one of several siblings (alt+left/alt+right switch)."""

    def show(self, number: int, of: int) -> None:
        self.display = of > 1
        self.update(f"‹ {number}/{of} ›  alt+←/→")


class TurnView(Vertical):
    """One exchange: the user's message, then the reply and its footer as they come.

    ``turn`` is the session's record of it, once there is one (after the reply ends).
    """

    def __init__(self, text: str, turn: Turn | None = None) -> None:
        super().__init__(classes="turn")
        self.user_text = text
        self.turn = turn
        self.reply: Reply | None = None

    def compose(self) -> ComposeResult:
        yield BranchLabel("", classes="branch user")
        yield UserMessage(self.user_text)

    async def start_reply(self) -> Reply:
        self.reply = Reply()
        await self.mount(self.reply)
        await self.mount(BranchLabel("", classes="branch reply"))
        return self.reply

    async def finish(self, stats: ReplyStats | None, error: str | None, note: str = "") -> None:
        if self.reply is not None:
            await self.reply.finish()
        if error and self.is_attached:  # (the app may be closing meanwhile: quit during a reply)
            await self.mount(Notice(f"No reply: {error}", "error"))
        if stats is not None and self.is_attached:
            await self.mount(ReplyFooter(stats, note))

    async def restore(self, turn: Turn) -> None:
        """Show a turn made earlier, whole (a branch switched to, a reopened session)."""
        reply = await self.start_reply()
        thinking_tokens = sum(p.kind == "thinking" and p.token >= 0 for p in turn.pieces) or None
        await reply.restore(turn.thinking, thinking_tokens, turn.reply)
        if turn.stats is not None:
            await self.mount(ReplyFooter(turn.stats, ORIGIN_NOTES.get(turn.origin, "")))
        elif turn.origin == "reopened":
            await self.mount(
                Notice("from the saved transcript: sent again as text, not remembered", "origin")
            )
        if turn.pieces:
            await self.mount(ConfidenceView(turn.pieces, turn.branched_at))

    def label(self, tree: Tree) -> None:
        """Say where this turn's message and reply sit among their siblings."""
        if self.turn is None or self.turn not in tree.turns:
            return
        for label in self.query(BranchLabel):
            side: Side = "user" if label.has_class("user") else "reply"
            label.show(*tree.position(self.turn, side))


class Conversation(VerticalScroll):
    """The current path's turns. It shows the reply being streamed (the screen hands it the reply
    worker's reports), and follows the newest text unless the user has scrolled up (Textual's
    anchor)."""

    def __init__(self, id: str | None = None) -> None:  # noqa: A002 - Textual's own name
        super().__init__(id=id)
        self.streaming: TurnView | None = None
        self.branch_at: int | None = None
        """Where on the path the streaming turn starts a branch (None: a new message)."""
        self._redraw = asyncio.Lock()
        """One path redraw at a time: two quick sibling switches must not interleave their mounts."""

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

    def on_mount(self) -> None:
        self.anchor()

    @property
    def turns(self) -> list[TurnView]:
        return list(self.query_children(TurnView))

    async def start_turn(self, text: str) -> TurnView:
        self.streaming, self.branch_at = TurnView(text), None
        await self.mount(self.streaming)
        return self.streaming

    async def start_branch(self, keep: int, text: str) -> TurnView:
        """A turn that replaces the path from its ``keep``-th turn down (kept in the session)."""
        await self.truncate(keep)
        view = await self.start_turn(text)
        self.branch_at = keep
        return view

    # The reply worker's reports, handed over by the screen ---------------------------------------
    # (They are posted to the screen, not here: posted to this scrolling widget, each batch cost
    # the decoder 2-3% more, see bench/tui_decode.py.)

    async def reply_started(self, message: ReplyStarted, current: bool) -> None:
        """``current``: the report is of the session shown (an older session's is only acknowledged)."""
        view = self.streaming
        if current and view is not None:
            prepared = message.prepared
            if prepared.dropped:
                await self.mark_dropped(prepared.first_kept)
            reply = await view.start_reply()
            if prepared.prefix or prepared.kept:  # what the prompt already holds of the reply
                thinking, answer = started(prepared)
                if thinking:
                    await reply.think(thinking, sum(p.kind == "thinking" for p in prepared.kept))
                await reply.add(answer)
        self._painted(message.painted)

    async def reply_chunk(self, message: ReplyChunk, current: bool) -> None:
        view = self.streaming
        if current and view is not None and view.reply is not None:
            if message.thinking:
                await view.reply.think(message.thinking, message.thinking_tokens)
            await view.reply.add(message.text)
        self._painted(message.painted)

    def _painted(self, painted: threading.Event | None) -> None:
        """Let the reply worker decode on once this update is on the screen."""
        if painted is not None:
            self.call_after_refresh(painted.set)

    async def reply_finished(self, message: ReplyFinished, current: bool) -> None:
        view, self.streaming = self.streaming, None
        branch_at, self.branch_at = self.branch_at, None
        session, made = message.recorded_in, message.turn
        if not current or not self.is_attached or view is None or session is None:
            return  # an old session's reply, or the app is closing (the worker saved the turn)
        if made is None and branch_at is not None and not message.reload:
            # A branch that made no turn (a template that cannot continue a reply, a full
            # context): the path the session is still on comes back, the reason under it.
            await self.show_path(session.turns, session.tree, branch_at)
            await self.mark_dropped(session.first_kept)
            await self.notice(f"No new branch: {message.error or 'stopped before it began'}", "error")
            return
        await view.finish(message.stats, message.error, ORIGIN_NOTES.get(made.origin, "") if made else "")
        if made is not None:
            view.turn = made
            if message.stats is not None and made.pieces:
                await view.mount(ConfidenceView(made.pieces, made.branched_at))
        self.label(session.tree)

    # The path -------------------------------------------------------------------------------------

    async def show_path(self, path: list[Turn], tree: Tree, start: int = 0) -> None:
        """Redraw the path from its ``start``-th turn down (the turns above stay as they are)."""
        async with self._redraw:
            await self.truncate(start)
            for turn in path[start:]:
                view = TurnView(turn.user, turn)
                await self.mount(view)
                if view.is_attached:  # not removed meanwhile by a newer redraw's truncate
                    await view.restore(turn)
            self.label(tree)

    async def truncate(self, keep: int) -> None:
        """Remove every turn view after the first ``keep``, and what was said below them (a
        branch starts there)."""
        await self.query_children(".dropped-marker").remove()
        views = self.turns
        if keep < len(views):
            children = list(self.children)
            await self.remove_children(children[children.index(views[keep]) :])

    def label(self, tree: Tree) -> None:
        for view in self.turns:
            view.label(tree)

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

    async def unanswered(self, item: Unanswered) -> None:
        """A message of a reopened session that got no reply: kept so nothing typed is lost, shown
        with where it was sent and why no reply came; never sent again by itself."""
        text = item.user
        if len(text) > UNANSWERED_SHOWN:  # a huge paste is not drawn whole
            text = f"{text[:UNANSWERED_SHOWN]}… ({len(item.user):,} characters in all)"
        await self.notice(f"Unanswered, sent after turn {item.after}: {text}\nNo reply: {item.why}", "error")
