"""The chat screen driven through Pilot: the real SmolLM2 for everything the model does."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.ui.helpers import FakeEngine, wait_until
from tui.core.chat.sampling import Sampling
from tui.core.engine.llama import Engine
from tui.core.engine.values import LoadOptions, Piece, ReplyStats
from tui.ui.app import AppConfig, create_app
from tui.ui.screens.chat import ChatScreen
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.conversation import Notice, ReplyFooter
from tui.ui.widgets.message_views import Reply, UserMessage
from tui.ui.widgets.status import StatusLine


def _real_app(model_path: Path, max_tokens: int = 24, n_ctx: int = 2048):  # type: ignore[no-untyped-def]
    config = AppConfig(
        sampling=Sampling(temperature=0.0, max_tokens=max_tokens, seed=11),
        engine_factory=lambda: Engine(model_path, LoadOptions(n_ctx=n_ctx)),
    )
    return create_app(config)


def _screen(app) -> ChatScreen:  # type: ignore[no-untyped-def]
    screen = app.screen
    assert isinstance(screen, ChatScreen)
    return screen


async def _send(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type the first characters as keys (the real path), paste the rest, press enter."""
    for key in text[:5]:
        await pilot.press(key if key != " " else "space")
    pilot.app.screen.query_one(ChatInput).insert(text[5:])
    await pilot.press("enter")


async def test_send_and_stream_a_reply(model_path: Path) -> None:
    app = _real_app(model_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.chat is not None)
        await _send(pilot, "Hello")
        await wait_until(pilot, lambda: len(screen.query(ReplyFooter)) == 1)
        turn = screen.chat.session.turns[0]  # type: ignore[union-attr]
        assert turn.user == "Hello" and turn.reply.strip()
        assert screen.query_one(Reply).text == turn.reply
        assert screen.query_one(UserMessage).render().plain == "Hello"  # type: ignore[union-attr]
        status = screen.query_one(StatusLine)
        assert status.speed > 0 and status.context_used > len(turn.prompt)
        assert "session #1" in screen.sub_title


async def test_escape_stops_a_reply_and_keeps_the_partial_text(model_path: Path) -> None:
    app = _real_app(model_path, max_tokens=400)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.chat is not None)
        await _send(pilot, "Write a very long essay about the history of ships")
        await wait_until(pilot, lambda: bool(screen.query(Reply)) and len(screen.query_one(Reply).text) > 20)
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(screen.query(ReplyFooter)) == 1)
        turn = screen.chat.session.turns[0]  # type: ignore[union-attr]
        assert turn.stats is not None and turn.stats.stop == "cancelled"
        assert 0 < turn.stats.completion_tokens < 400
        assert screen.query_one(Reply).text == turn.reply
        assert screen.query_one(ReplyFooter).has_class("stopped")


async def test_new_session_clears_everything_and_says_so(model_path: Path) -> None:
    app = _real_app(model_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.chat is not None)
        await _send(pilot, "My name is Zorblax")
        await wait_until(pilot, lambda: len(screen.query(ReplyFooter)) == 1)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: bool(screen.query(Notice)))
        chat = screen.chat
        assert chat is not None and chat.session.number == 2 and chat.session.turns == []
        notice = screen.query_one(Notice)
        assert notice.has_class("new-session") and "remembers nothing" in str(notice.render())
        assert not screen.query(UserMessage) and not screen.query(Reply)
        assert chat.engine.cached_tokens == 0  # type: ignore[attr-defined]
        await _send(pilot, "What is my name")
        await wait_until(pilot, lambda: len(screen.query(ReplyFooter)) == 1)
        new_prompt = chat.session.turns[0].prompt
        assert "Zorblax" not in new_prompt.text
        assert chat.session.turns[0].stats.reused_tokens == 0  # type: ignore[union-attr]
        assert "session #2" in screen.sub_title


async def test_new_session_during_a_reply_stops_it_and_nothing_crosses_over(
    model_path: Path,
) -> None:
    app = _real_app(model_path, max_tokens=400)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.chat is not None)
        await _send(pilot, "Write a very long essay about Zorblax the dragon")
        await wait_until(pilot, lambda: bool(screen.query(Reply)) and len(screen.query_one(Reply).text) > 10)
        first_session = screen.chat.session  # type: ignore[union-attr]
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: bool(screen.query(Notice)) and not screen.busy)
        chat = screen.chat
        assert chat is not None and chat.session.turns == [] and chat.session.number == 2
        assert first_session.turns[0].stats.stop == "cancelled"  # type: ignore[union-attr]
        assert not screen.query(Reply) and not screen.query(ReplyFooter)


async def test_a_message_typed_while_loading_is_sent_once_the_model_is_ready() -> None:
    release = threading.Event()

    def slow_factory() -> FakeEngine:
        release.wait(10)
        return FakeEngine()

    app = create_app(AppConfig(engine_factory=slow_factory))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = _screen(app)
        await _send(pilot, "early")
        assert screen.query_one(UserMessage) and not screen.query(Reply)
        release.set()
        await wait_until(pilot, lambda: len(screen.query(ReplyFooter)) == 1)
        assert screen.query_one(Reply).text == "Hello from a fake model."


async def test_a_model_that_fails_to_load_is_a_message_not_a_crash() -> None:
    def broken() -> FakeEngine:
        raise RuntimeError("could not load broken.gguf: out of memory")

    app = create_app(AppConfig(engine_factory=broken))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: bool(screen.query(Notice)))
        notice = screen.query_one(Notice)
        assert notice.has_class("error") and "out of memory" in str(notice.render())
        assert screen.query_one(StatusLine).model == "no model loaded"


async def test_dropped_turns_are_shown_in_the_conversation(model_path: Path) -> None:
    app = _real_app(model_path, max_tokens=16, n_ctx=256)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.chat is not None)
        long = "tell me about the sea and the wind and the long grey waves " * 5
        for n in range(4):
            await _send(pilot, f"{n} {long}")
            await wait_until(pilot, lambda n=n: len(screen.query(ReplyFooter)) == n + 1)
        notices = [n for n in screen.query(Notice) if n.has_class("dropped")]
        assert notices and "no longer fit the context" in str(notices[0].render())
        assert screen.chat is not None and screen.chat.session.first_kept > 0


async def test_a_template_error_is_a_message_in_the_conversation(model_path: Path) -> None:
    """The real model with a template that refuses the conversation, as Gemma 2's refuses roles
    that do not alternate: the refusal is shown in the conversation, and the app carries on."""
    from tui.core.prompt.template import ChatTemplate

    def refusing_engine() -> Engine:
        engine = Engine(model_path, LoadOptions(n_ctx=512))
        source = (
            "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
        )
        engine.template = engine.own_template = ChatTemplate(source, "a refusing template")
        return engine

    app = create_app(AppConfig(engine_factory=refusing_engine))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.chat is not None)
        await _send(pilot, "hi there")
        await wait_until(pilot, lambda: bool(screen.query(Notice)))
        notice = screen.query_one(Notice)
        assert notice.has_class("error")
        assert "a refusing template" in str(notice.render()) and "roles must alternate" in str(
            notice.render()
        )
        assert not screen.busy


async def test_ctrl_j_adds_a_line_and_enter_sends_both_lines() -> None:
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.chat is not None)
        await pilot.press("a", "ctrl+j", "b", "enter")
        await wait_until(pilot, lambda: len(screen.query(ReplyFooter)) == 1)
        assert screen.chat is not None and screen.chat.session.turns[0].user == "a\nb"
        assert screen.query_one(ChatInput).text == ""


async def test_typing_stays_responsive_while_a_reply_streams() -> None:
    class Slow(FakeEngine):
        """Generates in the worker thread at 20 tokens a second: long enough to type meanwhile."""

        def generate(self, prompt, sampling, cancel=None, confidence=False):  # type: ignore[no-untyped-def]
            for n in range(200):
                if cancel is not None and cancel.is_set():
                    break
                time.sleep(0.05)
                yield Piece(n, f"word{n} ")
            yield ReplyStats(len(prompt), 0, n, 0.05, 1.0, "cancelled", 1)

    app = create_app(AppConfig(engine_factory=Slow))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.chat is not None)
        await _send(pilot, "Write a long story")
        await wait_until(pilot, lambda: bool(screen.query(Reply)) and len(screen.query_one(Reply).text) > 5)
        await pilot.press(*"next")
        assert screen.busy
        assert screen.query_one(ChatInput).text == "next"
        await pilot.press("enter")  # refused while the reply streams: the text stays in the box
        await pilot.pause()
        assert screen.busy and screen.query_one(ChatInput).text == "next"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.busy)


async def test_a_server_now_running_another_model_starts_a_new_session_and_says_so() -> None:
    """UI half of the check tested against a real llama-server in tests/server/test_faults.py."""
    from tui.core.engine.values import EngineChanged

    loads: list[FakeEngine] = []

    class Changed(FakeEngine):
        def generate(self, prompt, sampling, cancel=None, confidence=False):  # type: ignore[no-untyped-def]
            if len(loads) == 1:
                raise EngineChanged(
                    "the server at http://x now runs another model (b.gguf); nothing was sent"
                )
            yield from super().generate(prompt, sampling, cancel, confidence)

    def factory() -> FakeEngine:
        loads.append(Changed())
        return loads[-1]

    app = create_app(AppConfig(engine_factory=factory))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.chat is not None)
        await _send(pilot, "hello")
        await wait_until(
            pilot, lambda: len(loads) == 2 and screen.chat is not None and screen.chat.engine is loads[1]
        )
        texts = [str(n.render()) for n in screen.query(Notice)]
        assert any("now runs another model" in t for t in texts)
        assert any("Session #2 started" in t for t in texts)
        assert not screen.chat.session.turns  # the refused turn was not recorded as sent
