"""Snapshots of the main screens at 100x30, with the fake engine so every pixel is deterministic.

Update them on purpose with `make snap-update` after a deliberate change to the look.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.helpers import FakeEngine, settled, wait_until
from tui.core.models import fit
from tui.ui.app import AppConfig, create_app
from tui.ui.screens.chat import ChatScreen
from tui.ui.widgets.conversation import ReplyFooter
from tui.ui.widgets.inspector import Inspector
from tui.ui.widgets.message_views import Reply

SIZE = (100, 30)
REPLY = ("Hello! Here is a list:\n\n", "- one\n", "- two\n\n", "```python\nprint('hi')\n```\n")


def app_with_reply() -> Any:
    return create_app(AppConfig(engine_factory=lambda: FakeEngine(words=REPLY)))


async def chatted(pilot: Pilot[None]) -> ChatScreen:
    chat = pilot.app.screen_stack[1]
    assert isinstance(chat, ChatScreen)
    await wait_until(pilot, lambda: chat.chat is not None)
    chat.query_one("#input").insert("Show me a list")  # type: ignore[attr-defined]
    await pilot.press("enter")
    await wait_until(pilot, lambda: bool(chat.query(ReplyFooter)))
    await settled(pilot)
    return chat


@pytest.fixture(autouse=True)
def fixed_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fit, "available_memory_bytes", lambda: 16_000_000_000)


def test_chat_screen(snap_compare: Any) -> None:
    assert snap_compare(app_with_reply(), terminal_size=SIZE, run_before=chatted)


def test_new_session_marker(snap_compare: Any) -> None:
    async def new_session(pilot: Pilot[None]) -> None:
        await chatted(pilot)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query(".new-session")))
        await settled(pilot)

    assert snap_compare(app_with_reply(), terminal_size=SIZE, run_before=new_session)


def test_persona_picker(snap_compare: Any) -> None:
    async def open_picker(pilot: Pilot[None]) -> None:
        await chatted(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "PersonaPicker")
        await settled(pilot)

    assert snap_compare(app_with_reply(), terminal_size=SIZE, run_before=open_picker)


def test_model_browser(snap_compare: Any) -> None:
    async def open_browser(pilot: Pilot[None]) -> None:
        await chatted(pilot)
        await pilot.press("f4")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ModelBrowser")
        await settled(pilot)

    assert snap_compare(app_with_reply(), terminal_size=SIZE, run_before=open_browser)


def test_help(snap_compare: Any) -> None:
    async def open_help(pilot: Pilot[None]) -> None:
        await chatted(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")
        await settled(pilot)

    assert snap_compare(app_with_reply(), terminal_size=SIZE, run_before=open_help)


def test_inspector(snap_compare: Any) -> None:
    async def open_inspector(pilot: Pilot[None]) -> None:
        chat = await chatted(pilot)
        await pilot.press("f2")
        chat.query_one("#input").insert("And now?")  # type: ignore[attr-defined]
        inspector = chat.query_one(Inspector)
        await wait_until(pilot, lambda: len(inspector.prompts) == 2 and not inspector_busy(pilot))
        await settled(pilot)

    assert snap_compare(app_with_reply(), terminal_size=(140, 36), run_before=open_inspector)


def inspector_busy(pilot: Pilot[None]) -> bool:
    """The live prompt is rendered in a worker: wait for every render, not only the first."""
    return any(w.group == "inspect" and not w.is_finished for w in pilot.app.workers)


def test_inspector_on_the_real_model(snap_compare: Any, model_path: Any) -> None:
    """No reply is generated, so the real SmolLM2 prompt is deterministic: its hidden default
    system message appears underlined, its special tokens in reverse video."""
    from tui.core.engine.llama import Engine
    from tui.core.engine.values import LoadOptions

    app = create_app(AppConfig(engine_factory=lambda: Engine(model_path, LoadOptions(n_ctx=2048))))

    async def inspect(pilot: Pilot[None]) -> None:
        chat = pilot.app.screen_stack[1]
        assert isinstance(chat, ChatScreen)
        await wait_until(pilot, lambda: chat.chat is not None)
        await pilot.press("f2")
        chat.query_one("#input").insert("Who are you?")  # type: ignore[attr-defined]
        inspector = chat.query_one(Inspector)
        await wait_until(pilot, lambda: len(inspector.prompts) == 1 and not inspector_busy(pilot))
        await settled(pilot)

    assert snap_compare(app, terminal_size=(140, 36), run_before=inspect)


THOUGHT = ("<think>", "\nThe user wants a list.", " Two items will do.\n", "</think>", "\n\n")


def test_reply_with_folded_thinking(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.ui.widgets import message_views

    ticks = iter(float(n) for n in range(1000))
    monkeypatch.setattr(message_views, "clock", lambda: next(ticks))  # a steady clock: 1 s per reading
    from tests.core.test_reasoning_templates import template

    qwen3 = template("qwen3")
    app = create_app(AppConfig(engine_factory=lambda: FakeEngine(words=THOUGHT + REPLY, template=qwen3)))
    assert snap_compare(app, terminal_size=SIZE, run_before=chatted)


def test_branch_indicator_after_regenerate(snap_compare: Any) -> None:
    """The reply regenerated once: the reply says it is the second of two (alt+left/right switch)."""

    async def regenerated(pilot: Pilot[None]) -> None:
        chat = await chatted(pilot)
        await pilot.press("ctrl+r")
        await wait_until(
            pilot,
            lambda: (
                chat.chat is not None
                and len(chat.chat.session.tree.turns) == 2
                and not chat.busy
                and bool(chat.query(ReplyFooter))
            ),
        )
        chat.query_one(Reply).focus()
        await settled(pilot)

    assert snap_compare(app_with_reply(), terminal_size=SIZE, run_before=regenerated)


POEM = (
    "Roses are red,\n",
    "violets are blue,\n",
    "a model has no memory,\n",
    "and neither do you.\n\n",
    "- one\n- two\n",
)


def test_a_reply_keeps_its_line_breaks(snap_compare: Any) -> None:
    """A four-line poem shows as four lines (Markdown alone would join them), the list as a list."""
    app = create_app(AppConfig(engine_factory=lambda: FakeEngine(words=POEM)))
    assert snap_compare(app, terminal_size=SIZE, run_before=chatted)


def test_saved_sessions_are_readable(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """f5: the first message and the start time fit their columns beside the preview."""
    from datetime import datetime, timezone

    from tui.core.chat import session as session_module
    from tui.core.chat import transcripts as transcripts_module

    class Fixed(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Fixed:
            return cls(2026, 12, 3, 9, 30, tzinfo=timezone.utc)

    monkeypatch.setattr(session_module, "datetime", Fixed)
    monkeypatch.setattr(transcripts_module, "datetime", Fixed)

    async def saved_then_f5(pilot: Pilot[None]) -> None:
        await chatted(pilot)
        await pilot.press("f5")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#sessions-table")))
        await settled(pilot)

    assert snap_compare(app_with_reply(), terminal_size=SIZE, run_before=saved_then_f5)


async def test_the_readme_pictures_are_made_from_the_real_app(tmp_path: Any) -> None:
    """`make screenshots` works: the first picture shows the template's own hidden system message."""
    from tests.ui.screenshots import take

    picture = await take("chat-and-inspector", tmp_path)
    text = picture.read_text()
    assert "helpful" in text and "ugging" in text and "rendered" in text  # tokens are drawn apart


def test_help_keys_with_their_keymap_ids(snap_compare: Any) -> None:
    """f1 scrolled to the keys: each with the id `[keymap]` takes, `[`/`]` drawn as characters."""

    async def keys(pilot: Pilot[None]) -> None:
        from textual.containers import VerticalScroll

        await chatted(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")
        await settled(pilot)
        scroll = pilot.app.screen.query_one(VerticalScroll)
        scroll.scroll_to(y=42, animate=False)
        await settled(pilot)

    assert snap_compare(app_with_reply(), terminal_size=SIZE, run_before=keys)


def test_persona_preview_with_a_template(
    snap_compare: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preview names the persona's template file and its [template] variables."""
    from tui.paths import get_paths

    async def pick_templated(pilot: Pilot[None]) -> None:
        from textual.widgets import OptionList

        await chatted(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "PersonaPicker")
        options = pilot.app.screen.query_one(OptionList)
        options.highlighted = options.get_option_index("templated")
        await settled(pilot)

    folder = get_paths().user_personas
    folder.mkdir(parents=True)
    (folder / "mine.jinja").write_text("{% for m in messages %}{{ m.content }}{% endfor %}")
    (folder / "templated.toml").write_text(
        'name = "Templated"\ndescription = "Its own template"\nchat_template_file = "mine.jinja"\n'
        "[template]\nenable_thinking = false\n"
    )
    monkeypatch.setenv("LLM_TUI_HOME", str(get_paths().config.parent))
    assert snap_compare(app_with_reply(), terminal_size=SIZE, run_before=pick_templated)
