"""Disks that refuse writes, for real: a tmpfs mounted (in a mount namespace of the test's own) over
one of llm-tui's folders, full or read-only. Every writer says which file and why in one line,
exits 1 (never 70), and loses nothing; the TUI says so in a notice and goes on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.app import App

from tests.core import test_downloads
from tests.core.test_downloads import entry
from tests.hubserver import FakeHub
from tests.ui.helpers import FakeEngine, ready, wait_until
from tui.paths import get_paths
from tui.ui.app import AppConfig, create_app

fake_hub = test_downloads.fake_hub  # the stand-in hub, serving the embedded model


def on_tmpfs(
    folder: Path, *args: str, full: bool = False, read_only: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``llm-tui ARGS`` with ``folder`` a fresh 64 KiB tmpfs, filled or read-only first."""
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to mount a tmpfs for the disk tests")
    folder.mkdir(parents=True, exist_ok=True)
    steps = ['mount -t tmpfs -o size=64k tmpfs "$0" || exit 99']
    if full:
        steps.append('cat /dev/zero > "$0/.fill" 2>/dev/null')
    if read_only:
        steps.append('mount -o remount,ro "$0" || exit 99')
    steps.append('exec "$@"')
    namespace = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    done = subprocess.run(
        [*namespace, "sh", "-c", "; ".join(steps), str(folder), sys.executable, "-m", "tui", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert done.returncode != 99, f"could not mount a tmpfs: {done.stderr}"
    return done


def said_in_one_line(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert all(word in lines[0] for word in words), lines[0]


@pytest.mark.parametrize(("full", "why"), [(True, "the disk is full"), (False, "read-only")])
def test_a_new_persona_on_a_disk_that_refuses(llm_home: Path, full: bool, why: str) -> None:
    personas = get_paths().user_personas
    done = on_tmpfs(personas, "personas", "new", "pirate", full=full, read_only=not full)
    said_in_one_line(done, str(personas / "pirate.toml"), why)


def test_a_pull_into_a_read_only_data_folder(llm_home: Path, fake_hub: FakeHub) -> None:
    model = entry(fake_hub)
    done = on_tmpfs(
        get_paths().models, "models", "pull", model.id, read_only=True, env={"HF_ENDPOINT": fake_hub.url}
    )
    said_in_one_line(done, "cannot write", "read-only", "nothing was downloaded")


def test_a_crash_report_on_a_full_data_disk_goes_to_the_temp_folder_whole(llm_home: Path) -> None:
    """A crash when the data disk is full: the report lands in the temp folder, none is left empty."""
    crash = get_paths().data / "crash"
    code = (
        "from tui.core.crash import write_report\n"
        "path = write_report(RuntimeError('boom'))\n"
        "print(path)\n"
        "assert 'RuntimeError: boom' in path.read_text()\n"
        "import pathlib\n"
        f"assert not any(p.stat().st_size == 0 for p in pathlib.Path({str(crash)!r}).glob('*'))\n"
    )
    crash.mkdir(parents=True)
    namespace = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    script = 'mount -t tmpfs -o size=64k tmpfs "$0" && cat /dev/zero > "$0/.fill" 2>/dev/null; exec "$@"'
    done = subprocess.run(
        [*namespace, "sh", "-c", script, str(crash), sys.executable, "-c", code],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not done.stdout.strip().startswith(str(crash))


def noticed(app: App[None], words: str) -> bool:
    """A notice with ``words`` was shown (as the other app tests read them)."""
    return any(words in str(n.message) for n in app._notifications)


async def test_state_writes_that_fail_are_said_and_the_app_goes_on(llm_home: Path) -> None:
    """state.toml cannot be written (a folder stands in its place): the theme, the default model
    and a model's settings each say so in a notice; nothing crashes."""
    get_paths().config.mkdir(parents=True)
    (get_paths().config / "state.toml").mkdir()
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(110, 32)) as pilot:
        await ready(pilot, app)
        app.theme = "nord" if app.theme != "nord" else "gruvbox"
        await wait_until(pilot, lambda: noticed(app, "not remembered"))
        browser = app.model_browser()
        await app.push_screen(browser)
        await pilot.pause()
        browser.action_set_default()
        await wait_until(
            pilot, lambda: any("Could not set the default" in str(n.message) for n in app._notifications)
        )
        assert app.return_code is None and app.crash_error is None


async def test_a_download_into_a_folder_that_cannot_be_written_says_so(
    llm_home: Path, fake_hub: FakeHub
) -> None:
    """The browser's download row ends with the reason, not "starting…" for ever."""
    from tui.ui.screens.models import DownloadRow

    model = entry(fake_hub)
    get_paths().data.mkdir(parents=True)
    get_paths().models.write_text("a file where the models folder should be")
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(110, 32)) as pilot:
        await ready(pilot, app)
        browser = app.model_browser()
        await app.push_screen(browser)
        await pilot.pause()
        browser.highlighted = lambda: model  # type: ignore[method-assign]
        browser.action_download()
        assert browser.query(DownloadRow)  # "starting…"
        await wait_until(pilot, lambda: noticed(app, "cannot write: a folder on its path is a file"))
        await wait_until(pilot, lambda: not browser.query(DownloadRow) and not browser.cancels)


def test_temp_files_left_by_killed_writes_are_removed_after_an_hour(tmp_path: Path) -> None:
    from tui.core.atomic import STALE_TEMP_SECONDS, write_text_atomic

    target = tmp_path / "state.toml"
    old, fresh, other = (
        tmp_path / name for name in (".state.toml.a1.tmp", ".state.toml.b2.tmp", ".x.a1.tmp")
    )
    for temp in (old, fresh, other):
        temp.write_text("half")
    stale = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(old, (stale, stale))
    os.utime(other, (stale, stale))
    write_text_atomic(target, "whole")
    assert target.read_text() == "whole"
    assert not old.exists() and fresh.exists() and other.exists()  # only this file's, only old ones
