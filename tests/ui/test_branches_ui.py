"""Branches in the TUI, on the real SmolLM2: regenerate, switch, edit either side, continue from a
token, reopen a saved session."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from tests.ui.helpers import ready, real_app, reopen_first_session, send, wait_until
from tui.core.chat.sampling import Sampling
from tui.ui.screens.chat import ChatScreen
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.confidence_view import CHOSEN_MARK, ConfidenceView
from tui.ui.widgets.conversation import BranchLabel, Notice, ReplyFooter, TurnView
from tui.ui.widgets.inspector import Inspector
from tui.ui.widgets.message_views import Reply, UserMessage

SAMPLING = Sampling(temperature=1.0, max_tokens=12, seed=5)
SIZE = (110, 40)


def label(chat: ChatScreen, side: str, turn: int = 0) -> str:
    found = chat.query(TurnView)[turn].query_one(f"BranchLabel.{side}", BranchLabel)
    return str(found.render()) if found.display else ""


async def settled(pilot: Pilot[None], chat: ChatScreen, turns: int) -> None:
    """Wait until the tree holds ``turns`` turns and the last reply has its footer."""
    assert chat.chat is not None
    tree = chat.chat.session.tree
    await wait_until(
        pilot, lambda: len(tree.turns) == turns and not chat.busy and len(chat.query(ReplyFooter)) >= 1
    )
    await pilot.pause()


async def test_regenerate_twice_then_walk_the_three_replies(model_path: Path) -> None:
    app = real_app(model_path, SAMPLING)
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "Tell me a fun fact", 1)
        for count in (2, 3):
            await pilot.press("ctrl+r")
            await settled(pilot, chat, count)
        assert chat.chat is not None
        session = chat.chat.session
        first, second, third = session.tree.turns
        assert len({first.reply, second.reply, third.reply}) == 3  # three samples, three seeds
        assert "3/3" in label(chat, "reply") and label(chat, "user") == ""

        chat.query_one(Reply).focus()
        for shown, position in ((second, "2/3"), (first, "1/3")):
            await pilot.press("alt+left")
            await wait_until(pilot, lambda: session.turns == [shown])  # noqa: B023
            await pilot.pause()
            assert chat.query_one(Reply).text == shown.reply and position in label(chat, "reply")
            assert isinstance(app.focused, Reply)  # the key can be pressed again
        await pilot.press("alt+left")  # at the first: nothing changes
        assert session.turns == [first]

        await pilot.press("f2")
        await wait_until(pilot, lambda: bool(chat.query_one(Inspector).aside))
        aside = "\n".join(chat.query_one(Inspector).aside)
        assert "2 other branch(es) (2 turn(s)) are kept but not sent" in aside

        await send(pilot, chat, "Tell me another one", 2)
        follow = session.turns[-1]
        assert first.reply in follow.prompt.text
        assert second.reply not in follow.prompt.text and third.reply not in follow.prompt.text
        assert follow.stats is not None and follow.stats.reused_tokens > 0  # decoded only from the switch


async def test_edit_an_earlier_message_as_a_new_branch(model_path: Path) -> None:
    app = real_app(model_path, SAMPLING)
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "My name is Ada.", 1)
        await send(pilot, chat, "What is my name?", 2)
        chat.query(UserMessage)[0].focus()
        await pilot.press("e")
        box = chat.query_one(ChatInput)
        await wait_until(pilot, lambda: box.text == "My name is Ada.")
        assert "editing message 1" in str(box.border_title)
        box.load_text("My name is Grace.")
        await pilot.press("enter")
        await settled(pilot, chat, 3)
        assert chat.chat is not None
        session = chat.chat.session
        assert [t.user for t in session.turns] == ["My name is Grace."]
        assert len(chat.query(TurnView)) == 1 and "2/2" in label(chat, "user")
        assert "Ada" not in session.turns[0].prompt.text

        chat.query_one(UserMessage).focus()
        await pilot.press("alt+left")  # back to the first message and everything below it
        await wait_until(pilot, lambda: len(chat.query(TurnView)) == 2)
        assert [t.user for t in session.turns] == ["My name is Ada.", "What is my name?"]
        assert "1/2" in label(chat, "user")


async def test_edit_a_reply_and_the_model_continues_from_the_edit(model_path: Path) -> None:
    app = real_app(model_path, Sampling(temperature=0.0, max_tokens=16, seed=1))
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "Name a prime number.", 1)
        chat.query_one(Reply).focus()
        await pilot.press("e")
        from textual.widgets import TextArea

        await wait_until(pilot, lambda: app.screen.query("#edited-reply").first(TextArea) is not None)
        editor = app.screen.query_one("#edited-reply", TextArea)
        edited = "Seven is a prime number because"
        editor.load_text(edited)
        await pilot.press("ctrl+s")
        await settled(pilot, chat, 2)
        assert chat.chat is not None
        turn = chat.chat.session.turns[-1]
        assert (
            turn.origin == "edited reply" and turn.reply.startswith(edited) and len(turn.reply) > len(edited)
        )
        assert turn.prompt.text.endswith("<|im_start|>assistant\n" + edited)  # left open for the model
        assert chat.query_one(Reply).text == turn.reply
        assert "continued from your edit" in str(chat.query_one(ReplyFooter).render())
        assert "2/2" in label(chat, "reply")


async def test_continue_from_a_runner_up_token(model_path: Path) -> None:
    app = real_app(model_path, Sampling(temperature=0.0, max_tokens=16, seed=1))
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot, app)
        await pilot.press("f8")
        await send(pilot, chat, "Name three colours.", 1)
        await wait_until(pilot, lambda: bool(chat.query(ConfidenceView)))
        assert chat.chat is not None
        session = chat.chat.session
        original = session.turns[0]
        view = chat.query_one(ConfidenceView)
        view.focus()
        for key in ("right", "right", "right", "down"):
            await pilot.press(key)
        index = view.cursor
        assert index == 2
        sure = original.pieces[index].confidence
        assert sure is not None
        chosen = sure.alternatives[1]
        assert chosen.token != original.pieces[index].token
        await pilot.press("enter")
        await settled(pilot, chat, 2)
        await wait_until(pilot, lambda: bool(chat.query(ConfidenceView)))
        branch = session.turns[0]
        assert branch is not original and branch.origin == "token" and branch.branched_at == index
        kept = [p.token for p in original.pieces[:index]]
        assert branch.prompt.ids == original.prompt.ids + kept + [chosen.token]
        assert branch.stats is not None and original.stats is not None
        assert branch.stats.seed != original.stats.seed  # a new seed, as for regenerate
        assert branch.reply.startswith("".join(p.text for p in original.pieces[:index]) + chosen.text)
        marked = chat.query_one(ConfidenceView)
        assert marked.branched_at == index and CHOSEN_MARK in str(
            marked.query_one(".confidence-tokens").render()
        )
        assert "continued from a runner-up token" in str(chat.query_one(ReplyFooter).render())

        await pilot.press("f2")
        inspector = chat.query_one(Inspector)
        await wait_until(
            pilot, lambda: inspector.current is not None and inspector.current.fed_back is not None
        )
        title = str(inspector.query_one("#inspector-title").render())
        assert f"Tokens {len(original.prompt) + 1}–{len(branch.prompt)} are the reply's own ids" in title


async def test_reopen_a_saved_session_and_go_on(model_path: Path, llm_home: Path) -> None:
    app = real_app(model_path, Sampling(temperature=0.0, max_tokens=12, seed=1))
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "My favourite fruit is the quince.", 1)
        assert chat.chat is not None
        old_id = chat.chat.session.id
        await reopen_first_session(pilot, app, chat)
        await wait_until(pilot, lambda: len(chat.query(TurnView)) == 1)
        session = chat.chat.session
        assert session.reopened_from is not None and old_id in session.reopened_from
        notices = " ".join(str(n.render()) for n in chat.query(Notice))
        assert f"started from saved session {old_id}" in notices
        assert "sent again as text" in notices
        assert chat.query_one(UserMessage).text == "My favourite fruit is the quince."

        await pilot.press("f2")
        inspector = chat.query_one(Inspector)
        await wait_until(pilot, lambda: any("saved transcript" in line for line in inspector.aside))
        await send(pilot, chat, "What is my favourite fruit?", 1)
        turn = session.turns[-1]
        assert "My favourite fruit is the quince." in turn.prompt.text  # re-sent, as text
        assert turn.stats is not None and turn.stats.reused_tokens == 0  # nothing was in the model
        assert session.turns[0].origin == "reopened"
