"""A reopened session shows the messages that got no reply, where they were sent and why."""

from __future__ import annotations

from pathlib import Path

from tests.ui.helpers import FakeEngine, ready, reopen_first_session, send, wait_until
from tui.core.chat.tree import Unanswered
from tui.ui.app import AppConfig, create_app
from tui.ui.widgets.conversation import UNANSWERED_SHOWN, Notice, TurnView


async def test_unanswered_messages_are_drawn_when_their_session_is_reopened(llm_home: Path) -> None:
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(110, 40)) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "first message", 1)
        assert chat.chat is not None
        session = chat.chat.session
        paste = "x" * (UNANSWERED_SHOWN * 10)
        session.unanswered += [
            Unanswered("are you there?", 1, "the server stopped answering"),
            Unanswered(paste, 1, "not sent: the app was closing"),
        ]
        chat._save_transcript()
        await reopen_first_session(pilot, app, chat)
        await wait_until(
            pilot, lambda: len(chat.query(TurnView)) == 1 and len(chat.query("Notice.error")) == 2
        )
        shown = [str(n.render()) for n in chat.query("Notice.error").results(Notice)]
        assert "Unanswered, sent after turn 1: are you there?" in shown[0]
        assert "No reply: the server stopped answering" in shown[0]
        assert f"({len(paste):,} characters in all)" in shown[1] and len(shown[1]) < UNANSWERED_SHOWN + 200
        # kept, not re-sent: the reopened session still holds them, and no turn was made of them
        assert chat.chat is not None and len(chat.chat.session.tree.turns) == 1
        assert [u.user for u in chat.chat.session.unanswered] == ["are you there?", paste]
