"""Faults a user meets: keys pressed at the wrong moment, disks that refuse writes, crashes.

Whatever ends a turn, the turn is saved; a failed save loses nothing typed; a crash leaves a report
(without secrets) and never exits 0.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.helpers import FakeEngine, ready, wait_until
from tui.cli import info as info_command
from tui.cli import main as cli
from tui.core.engine.values import Piece, ReplyStats
from tui.paths import get_paths
from tui.ui.app import AppConfig, create_app
from tui.ui.widgets.chat_input import ChatInput

SECRET = "hf_SeCrEtToKeN1234567890"


class Slow(FakeEngine):
    """Streams in the worker thread at 50 tokens a second until cancelled (or 400 tokens)."""

    def generate(self, prompt, sampling, cancel=None, confidence=False):  # type: ignore[no-untyped-def]
        count = 0
        for count in range(1, 401):
            if cancel is not None and cancel.is_set():
                yield ReplyStats(len(prompt), 0, count, 0.02, 1.0, "cancelled", 7)
                return
            time.sleep(0.02)
            yield Piece(count, f"w{count} ")
        yield ReplyStats(len(prompt), 0, count, 0.02, 1.0, "max_tokens", 7)


async def start_long_reply(pilot, app, text: str):  # type: ignore[no-untyped-def]
    """The chat screen, with a slow reply to ``text`` streaming for a moment already."""
    chat = await ready(pilot, app)
    chat.query_one(ChatInput).insert(text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: chat.busy)
    await pilot.pause(0.2)
    return chat


def saved_sessions() -> list[dict[str, object]]:
    folder = get_paths().sessions
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


async def test_new_session_twice_while_a_reply_streams_keeps_the_partial_turn() -> None:
    app = create_app(AppConfig(engine_factory=Slow))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await start_long_reply(pilot, app, "tell me a long story")
        await pilot.press("ctrl+n", "ctrl+n")
        await wait_until(pilot, lambda: chat._shown is not None and chat._shown.number == 3 and not chat.busy)
        await wait_until(pilot, lambda: len(saved_sessions()) == 1)
    (session,) = saved_sessions()
    turn = session["turns"][0]  # type: ignore[index]
    assert session["number"] == 1 and turn["user"] == "tell me a long story"
    assert turn["stop"] == "cancelled" and turn["reply"].startswith("w1 ")


async def test_session_numbers_stay_consistent_under_a_burst_of_new_sessions() -> None:
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        await pilot.press(*["ctrl+n"] * 30)
        await wait_until(pilot, lambda: chat.chat is not None and chat.chat.session.number == 31)
        await wait_until(pilot, lambda: chat._shown is chat.chat.session)  # type: ignore[union-attr]
        notices = [str(n.render()) for n in chat.query(".new-session")]
        assert len(notices) == 1 and "Session #31" in notices[0] and "session #30" in notices[0]


async def test_quit_while_a_reply_streams_stops_it_and_saves_the_turn() -> None:
    app = create_app(AppConfig(engine_factory=Slow))
    async with app.run_test(size=(100, 30)) as pilot:
        await start_long_reply(pilot, app, "go on for ever")
        started = time.monotonic()
        await pilot.press("ctrl+q")
    assert time.monotonic() - started < 3  # 400 tokens would take 8 s
    (session,) = saved_sessions()
    turn = session["turns"][0]  # type: ignore[index]
    assert turn["stop"] == "cancelled" and turn["reply"]


@pytest.fixture
def read_only_personas(llm_home: Path) -> Iterator[Path]:
    """The user's persona folder on a read-only filesystem (a real mount: chmod does not stop root)."""
    folder = llm_home / "config" / "personas"
    folder.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)])
    if mounted.returncode != 0:
        pytest.fail("mounting a read-only tmpfs needs root (CI runs as root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


async def test_a_failed_persona_save_keeps_the_text(read_only_personas: Path) -> None:
    from tui.ui.screens.persona_editor import PersonaEditor

    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(110, 34)) as pilot:
        await ready(pilot, app)
        path = app.store.user_path("almo")  # editing a bundled persona saves the user's copy
        bundled = app.store.bundled_path("almo")
        assert bundled is not None
        app.push_screen(PersonaEditor(app.store, "almo", bundled))
        await wait_until(
            pilot, lambda: isinstance(app.screen, PersonaEditor) and bool(app.screen.query("TomlEditor"))
        )
        editor = app.screen
        assert isinstance(editor, PersonaEditor)
        editor.editor.load_text('name = "Mine"\nsystem = "typed with care"\n')
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any("Could not save" in n.message for n in app._notifications))
        assert isinstance(app.screen, PersonaEditor) and "typed with care" in editor.editor.text
        message = next(n.message for n in app._notifications if "Could not save" in n.message)
        assert str(path) in message and "the file system is read-only" in message
    assert not path.exists()


async def test_escape_closes_the_persona_editor() -> None:
    from tui.ui.screens.persona_editor import PersonaEditor

    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(110, 34)) as pilot:
        bundled = app.store.bundled_path("almo")
        assert bundled is not None
        app.push_screen(PersonaEditor(app.store, "almo", bundled))
        await wait_until(pilot, lambda: isinstance(app.screen, PersonaEditor))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, PersonaEditor))


async def test_a_tui_crash_leaves_a_report_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    app = create_app(AppConfig(engine_factory=FakeEngine))

    def boom() -> None:
        raise RuntimeError(f"simulated bug while holding {SECRET}")

    with pytest.raises(RuntimeError):
        async with app.run_test(size=(100, 30)) as pilot:
            chat = await ready(pilot, app)
            monkeypatch.setattr(chat, "action_regenerate", boom)
            await pilot.press("ctrl+r")
            await pilot.pause(0.5)
    assert app.return_code == 1 and app.crash_report is not None
    report = app.crash_report.read_text()
    assert "simulated bug" in report and "Traceback" in report
    assert SECRET not in report and "[redacted]" in report


def test_a_cli_crash_exits_non_zero_with_a_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLAMA_API_KEY", SECRET)

    def boom(*_args: object) -> int:
        raise RuntimeError(f"simulated bug with {SECRET}")

    monkeypatch.setattr(info_command, "run_paths", boom)
    assert cli.main(["paths"]) == 70
    err = capsys.readouterr().err
    assert "internal error: RuntimeError" in err and SECRET not in err
    report = Path(err.split("the full report is in ")[1].strip())
    text = report.read_text()
    assert "simulated bug" in text and SECRET not in text and report.is_relative_to(get_paths().data)
