"""Focus never eats typing: after an action that leaves the conversation focus is back in the
message box, and a printable key on a focused message that is not one of its keys is typed there."""

from __future__ import annotations

from textual.widgets import TextArea

from tests.ui.helpers import FakeEngine, ready, wait_until
from tui.ui.app import AppConfig, create_app
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.conversation import Conversation, ReplyFooter
from tui.ui.widgets.message_views import Reply, UserMessage

SIZE = (100, 32)


async def one_turn(pilot, app):  # type: ignore[no-untyped-def]
    chat = await ready(pilot, app)
    chat.query_one(ChatInput).insert("first message")
    await pilot.press("enter")
    await wait_until(pilot, lambda: bool(chat.query(ReplyFooter)) and not chat.busy)
    return chat


async def test_typing_after_continuing_an_edited_reply_lands_in_the_box() -> None:
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=SIZE) as pilot:
        chat = await one_turn(pilot, app)
        chat.query_one(Reply).focus()
        await pilot.press("e")
        await wait_until(pilot, lambda: bool(app.screen.query("#edited-reply")))
        app.screen.query_one("#edited-reply", TextArea).load_text("An edited start")
        await pilot.press("ctrl+s")
        assert chat.chat is not None
        await wait_until(pilot, lambda: len(chat.chat.session.tree.turns) == 2 and not chat.busy)  # type: ignore[union-attr]
        await pilot.press("r", "e", "a", "d", "y")
        box = chat.query_one(ChatInput)
        assert app.focused is box and box.text == "ready"
        assert len(chat.chat.session.tree.turns) == 2  # "r" regenerated nothing
        assert not app.screen.query("#edited-reply")  # "e" opened no editor


async def test_a_printable_key_on_a_focused_message_goes_to_the_box() -> None:
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=SIZE) as pilot:
        chat = await one_turn(pilot, app)
        chat.query_one(UserMessage).focus()
        await pilot.pause()
        box = chat.query_one(ChatInput)
        assert "message above has focus" in str(box.border_subtitle)  # where focus is, is visible
        await pilot.press("h", "i")
        assert app.focused is box and box.text == "hi" and not box.border_subtitle


async def test_editing_a_message_puts_the_cursor_at_its_end() -> None:
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=SIZE) as pilot:
        chat = await one_turn(pilot, app)
        chat.query_one(UserMessage).focus()
        await pilot.press("e")
        box = chat.query_one(ChatInput)
        await wait_until(pilot, lambda: box.text == "first message")
        await pilot.press("!")
        assert box.text == "first message!"


async def test_two_quick_switches_move_two_steps() -> None:
    """The second alt+← names the reply the first switched away from: it still steps on."""
    from tui.ui.widgets.message_views import BranchAsked

    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=SIZE) as pilot:
        chat = await one_turn(pilot, app)
        assert chat.chat is not None
        tree = chat.chat.session.tree
        for count in (2, 3):
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: len(tree.turns) == count and not chat.busy)  # noqa: B023
        shown = chat.chat.session.turns[0]
        assert shown is tree.turns[2]
        reply = chat.query_one(Reply)
        reply.post_message(BranchAsked(shown, "reply", -1))
        reply.post_message(BranchAsked(shown, "reply", -1))  # before the first is drawn
        await wait_until(pilot, lambda: chat.chat.session.turns[0] is tree.turns[0])  # type: ignore[union-attr]
        # The screen too, not only the session: the first turn's view is the first sibling's,
        # with its reply drawn and focused.
        conversation = chat.query_one(Conversation)
        await wait_until(
            pilot,
            lambda: (
                [v.turn for v in conversation.turns] == [tree.turns[0]]
                and isinstance(app.focused, Reply)
                and app.focused.text == tree.turns[0].reply
            ),
        )
