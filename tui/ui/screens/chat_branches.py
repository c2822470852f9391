"""The chat screen's branch actions: regenerate, edit either side, switch siblings, continue
from a runner-up token.

Each one changes which turns the path holds, never what the model remembers: nothing is decoded
until the reply an action asks for, and the prompt is made from the current path only (see
`tui.core.chat.tree`).
"""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen

from tui.core.chat.session import Chat, PreparedTurn, Session
from tui.core.chat.tree import Turn
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.confidence_view import ConfidenceView
from tui.ui.widgets.conversation import Conversation
from tui.ui.widgets.message_views import BranchAsked, EditAsked, RegenerateAsked, Reply, UserMessage


class BranchActions(Screen[None]):
    """What the chat screen does with branches. The screen itself supplies the chat, the check that
    nothing is streaming, how a branch's reply starts, and the record (below, as stubs)."""

    @property
    def chat(self) -> Chat | None:
        raise NotImplementedError

    def _idle_chat(self) -> Chat | None:
        raise NotImplementedError

    async def _branch(
        self, turn: Turn, plan: Callable[[], PreparedTurn], user_text: str, new_seed: bool = False
    ) -> None:
        raise NotImplementedError

    def _save_transcript(self) -> None:
        raise NotImplementedError

    def inspect(self) -> None:
        raise NotImplementedError

    async def action_regenerate(self, turn: Turn | None = None) -> None:
        """Another reply to the last message (or ``turn``'s), with a new seed: a different sample
        from the same prompt. The old reply is kept as a sibling (alt+left shows it again)."""
        chat = self._idle_chat()
        if chat is None:
            return
        chosen = turn or chat.session.tree.leaf
        if chosen is None:
            self.notify("Nothing to regenerate yet.", severity="warning")
            return
        await self._branch(chosen, lambda: chat.prepare_regenerate(chosen), chosen.user, new_seed=True)

    async def on_regenerate_asked(self, message: RegenerateAsked) -> None:
        if self._current(message.turn):
            await self.action_regenerate(message.turn)

    def _current(self, turn: Turn) -> bool:
        """``turn`` belongs to the session on screen (a message about an older one is dropped)."""
        return self.chat is not None and turn in self.chat.session.tree.turns

    def action_edit_last(self) -> None:
        chat = self._idle_chat()
        last = chat.session.tree.leaf if chat is not None else None
        if chat is not None and last is None:
            self.notify("No message to edit yet.", severity="warning")
        elif last is not None:
            self._edit_message(last)

    def _edit_message(self, turn: Turn) -> None:
        """Put ``turn``'s message in the box: sending it starts a new branch there."""
        assert self.chat is not None
        self.query_one(ChatInput).edit_message(turn, self.chat.session.turns.index(turn) + 1)

    async def on_edit_asked(self, message: EditAsked) -> None:
        chat = self._idle_chat()
        if chat is None or not self._current(message.turn):
            return
        turn = message.turn
        if message.side == "user":
            self._edit_message(turn)
            return
        from tui.ui.dialogs.edit_reply import EditReply

        if not turn.reply.strip() and turn.thinking:
            self.notify(
                "This reply is all thinking, with no answer yet: the editor starts empty, and what you "
                "write becomes the start of the answer the model goes on from.",
                timeout=10,
            )

        def continue_from(edited: str | None) -> None:
            if edited is not None and self._idle_chat() is chat:
                plan = lambda: chat.prepare_continue(turn, edited)  # noqa: E731
                self.run_worker(self._branch(turn, plan, turn.user))

        self.app.push_screen(EditReply(turn.reply), continue_from)

    async def on_branch_asked(self, message: BranchAsked) -> None:
        """Show a sibling instead: nothing is decoded until the next message is sent."""
        chat = self._idle_chat()
        if chat is None:
            return
        session = chat.session
        turn = _in_its_place(session, message.turn)
        if turn is None:
            return
        keep = session.turns.index(turn)
        target = session.tree.switch(turn, message.side, message.step)
        if target is None:
            where = "first" if message.step < 0 else "last"
            self.notify(f"This is the {where} of its siblings.", severity="information")
            return
        conversation = self.query_one(Conversation)
        await conversation.show_path(session.turns, session.tree, keep)
        await conversation.mark_dropped(session.first_kept)
        views = conversation.turns
        if keep < len(views):  # (none drawn where the app closed meanwhile)
            for focus in views[keep].query(UserMessage if message.side == "user" else Reply):
                focus.focus()
        self._save_transcript()  # the current path is part of the record
        self.inspect()

    async def on_confidence_view_chosen(self, message: ConfidenceView.Chosen) -> None:
        """Cut the reply at a token and continue from the runner-up chosen there, with a new seed."""
        chat = self._idle_chat()
        if chat is None or not self._current(message.turn):
            return
        turn, index, token = message.turn, message.index, message.token
        plan = lambda: chat.prepare_from_token(turn, index, token)  # noqa: E731
        await self._branch(turn, plan, turn.user, new_seed=True)


def _in_its_place(session: Session, turn: Turn) -> Turn | None:
    """``turn`` if it is on the current path, else the sibling shown in its place now: a second
    alt+→ pressed while the first was still being drawn names the turn the first switched away
    from, and must step on from where the first left off."""
    if turn in session.turns:
        return turn
    if turn not in session.tree.turns:
        return None
    depth = len(session.tree.path_to(turn)) - 1
    current = session.turns[depth] if depth < len(session.turns) else None
    return current if current is not None and current.parent is turn.parent else None
