"""Regenerate, edit and resend, copy, saved transcripts, help, theme and keymap: through Pilot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.ui.helpers import FakeEngine, ready, send, wait_until
from tui.core.chat.sampling import Sampling
from tui.core.engine.llama import Engine
from tui.core.engine.values import LoadOptions
from tui.core.prompt.template import ChatTemplate
from tui.core.settings.state import load_state
from tui.paths import get_paths
from tui.ui.app import AppConfig, LlmTuiApp, create_app
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.sessions import SessionsView
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.conversation import ReplyFooter, TurnView
from tui.ui.widgets.message_views import Reply, UserMessage


def real_app(model_path: Path) -> LlmTuiApp:
    return create_app(
        AppConfig(
            sampling=Sampling(temperature=1.0, max_tokens=12, seed=5),
            engine_factory=lambda: Engine(model_path, LoadOptions(n_ctx=1024)),
        )
    )


async def test_regenerate_samples_again_with_a_new_seed_in_the_same_place(model_path: Path) -> None:
    app = real_app(model_path)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "Tell me a fun fact", 1)
        assert chat.chat is not None
        first = chat.chat.session.turns[0]
        assert first.stats is not None and first.stats.seed == 5
        await pilot.press("ctrl+r")
        await wait_until(
            pilot,
            lambda: len(chat.query(ReplyFooter)) == 1 and not chat.busy and len(chat.chat.session.turns) == 1,
        )  # type: ignore[union-attr]
        again = chat.chat.session.turns[0]
        assert again.user == "Tell me a fun fact" and again.stats is not None and again.stats.seed != 5
        assert len(chat.query(TurnView)) == 1
        assert chat.query_one(Reply).text == again.reply
        assert chat.chat.session.tree.turns == [first, again]  # the first reply is kept as a sibling


async def test_edit_last_puts_the_message_back_and_sends_it_as_a_new_branch() -> None:
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "first", 1)
        await send(pilot, chat, "secnod with a typo", 2)
        await pilot.press("ctrl+l")
        await pilot.pause()
        box = chat.query_one(ChatInput)
        assert box.text == "secnod with a typo" and "editing message 2" in str(box.border_title)
        assert chat.chat is not None and len(chat.chat.session.turns) == 2  # nothing taken back yet
        box.load_text("second, fixed")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(chat.query(ReplyFooter)) == 2 and not chat.busy)
        session = chat.chat.session
        assert [t.user for t in session.turns] == ["first", "second, fixed"]
        assert [t.user for t in session.tree.turns] == ["first", "secnod with a typo", "second, fixed"]
        assert str(session.tree.position(session.turns[1], "user")) == "2/2"
        assert len(chat.query(TurnView)) == 2 and box.border_title is None


async def test_copy_the_reply_a_code_block_and_a_focused_message() -> None:
    words = ("Here:\n\n```python\nprint('hi')\n```\n", "Done.")
    app = create_app(AppConfig(engine_factory=lambda: FakeEngine(words=words)))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "code please", 1)
        await pilot.press("ctrl+o")
        assert app.clipboard == "Here:\n\n```python\nprint('hi')\n```\nDone."
        await pilot.press("ctrl+g")
        assert app.clipboard == "print('hi')"
        chat.query_one(UserMessage).focus()
        await pilot.press("c")
        assert app.clipboard == "code please"


async def test_every_session_is_saved_for_the_user_and_shown_read_only(model_path: Path) -> None:
    app = real_app(model_path)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "Hello there", 1)
        assert chat.chat is not None
        prompt = chat.chat.session.turns[0].prompt.text
        files = list(get_paths().sessions.glob("*.json"))
        assert len(files) == 1
        data = json.loads(files[0].read_text())
        assert data["turns"][0]["prompt"] == prompt and data["turns"][0]["seed"] == 5
        assert data["persona"] == "no-system" and data["model"]["context"] == 1024
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionsView))
        view = app.screen
        assert "The model cannot see any of this" in str(view.query_one("#sessions-banner").render())
        await wait_until(pilot, lambda: "Hello there" in view.query_one("#session-preview").source)  # type: ignore[attr-defined]
        preview = view.query_one("#session-preview")
        await pilot.press("t")  # every branch, as the outline `sessions show --tree` prints
        await wait_until(pilot, lambda: "* you 1/1: Hello there" in preview.source)  # type: ignore[attr-defined]
        await pilot.press("t")
        await wait_until(pilot, lambda: "**You:**" in preview.source)  # type: ignore[attr-defined]
        await pilot.press("m")
        exported = get_paths().data / "exports" / f"{files[0].stem}.md"
        assert exported.is_file() and "The exact prompt" in exported.read_text()

    env = {**os.environ, "LLM_TUI_HOME": str(get_paths().config.parent)}
    listed = subprocess.run(
        [sys.executable, "-m", "tui", "sessions", "list"], capture_output=True, text=True, env=env
    )
    assert data["id"] in listed.stdout and "Hello there" in listed.stdout
    shown = subprocess.run(
        [sys.executable, "-m", "tui", "sessions", "show", data["id"]], capture_output=True, text=True, env=env
    )
    assert "**You:**" in shown.stdout and "<|im_start|>user" in shown.stdout
    as_json = subprocess.run(
        [sys.executable, "-m", "tui", "sessions", "export", data["id"], "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert json.loads(as_json.stdout)["turns"][0]["prompt"] == prompt


async def test_help_theme_and_keymap() -> None:
    config = get_paths().config_file
    config.parent.mkdir(parents=True)
    config.write_text(
        '[keymap]\n"chat.new_session" = "ctrl+b"\n"chat.new_sesion" = "ctrl+u"\n"[/y]" = "x"\n'
        '"chat.regenerate" = "ctrl+alt+banana+++"\n"app.quit" = "q"\n[colours]\n'
    )
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        messages = [n.message for n in app._notifications]
        assert any(
            "unknown binding `chat.new_sesion` (did you mean `chat.new_session`?)" in m for m in messages
        )
        assert any("unknown section `colours`" in m for m in messages)
        assert any("unknown binding `[/y]`" in m for m in messages)  # shown as text, not Rich markup
        assert any("`ctrl+alt+banana+++` is not a key" in m for m in messages)
        assert any("[keymap] app.quit: `q` is typed into the message box" in m for m in messages)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: chat.chat is not None and chat.chat.session.number == 2)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = app.screen.query_one("Markdown").source  # type: ignore[attr-defined]
        assert "no self and no memory" in text and "New session" in text and "ctrl+b" in text
        await pilot.press("escape")
        app.theme = "nord"
        await pilot.pause()
    assert load_state(get_paths()).theme == "nord"
    again = create_app(AppConfig(engine_factory=FakeEngine))
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert again.theme == "nord"


async def test_token_confidence_shades_the_reply_and_shows_alternatives(model_path: Path) -> None:
    from tui.ui.widgets.confidence_view import ConfidenceView

    app = real_app(model_path)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "Hi", 1)
        assert not chat.query(ConfidenceView)  # off by default: nothing computed
        assert chat.chat is not None and chat.chat.session.turns[0].pieces == []
        await pilot.press("f8")
        await send(pilot, chat, "What is the capital of France?", 2)
        await wait_until(pilot, lambda: bool(chat.query(ConfidenceView)))
        view = chat.query_one(ConfidenceView)
        turn = chat.chat.session.turns[-1]
        assert turn.stats is not None and len(view.pieces) == turn.stats.completion_tokens
        assert "".join(p.text for p in view.pieces) == turn.reply
        view.action_show(0)
        await pilot.pause()
        detail = str(view.query_one(".confidence-detail").render())
        assert "continue from a runner-up instead" in detail and "(the one it took)" in detail


async def test_a_reply_the_template_cannot_continue_leaves_the_path_as_it_was() -> None:
    """The template upper-cases every message: an edited reply cannot be left open. The old reply
    comes back, the reason is said, and the session is unchanged."""
    shouting = ChatTemplate(
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] | upper }}\n{% endfor %}", "shouting"
    )
    app = create_app(AppConfig(engine_factory=lambda: FakeEngine(template=shouting)))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "hello", 1)
        assert chat.chat is not None
        before = chat.chat.session.turns
        chat.query_one(Reply).focus()
        await pilot.press("e")
        await wait_until(pilot, lambda: bool(app.screen.query("#edited-reply")))
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(chat.query(".error")))
        await pilot.pause()
        error = str(chat.query_one(".error").render())
        assert "No new branch" in error and "cannot continue a message" in error
        assert chat.chat.session.turns == before and len(chat.chat.session.tree.turns) == 1
        assert chat.query_one(Reply).text == before[0].reply and len(chat.query(TurnView)) == 1


async def test_r_on_an_earlier_reply_samples_it_again_as_a_new_branch() -> None:
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "first", 1)
        await send(pilot, chat, "second", 2)
        assert chat.chat is not None
        first, second = chat.chat.session.turns
        chat.query(Reply)[0].focus()
        await pilot.press("r")
        tree = chat.chat.session.tree
        await wait_until(
            pilot, lambda: len(tree.turns) == 3 and not chat.busy and bool(chat.query(ReplyFooter))
        )
        again = tree.turns[2]
        assert again.origin == "regenerated" and again.parent is None and again.user == "first"
        assert chat.chat.session.turns == [again] and len(chat.query(TurnView)) == 1
        assert tree.replies(first) == [first, again] and second in tree.turns  # the rest stays, beside it
