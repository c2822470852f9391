"""Downloads that cannot finish the easy way: a refused resume, a complete .part left by a kill, a
hub error, a stalled connection, ctrl+c on a stall, a data folder that cannot be written. HTTP
errors read as HTTP errors, never as disk errors; a stall is bounded; every case says what to do.
(The real huggingface_hub client against tests/hubserver.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.core import test_downloads
from tests.core.test_downloads import FILE, REPO, entry
from tests.hubserver import FakeHub
from tui.core.models import downloads
from tui.core.models.downloads import DownloadError
from tui.core.models.local import pull
from tui.paths import get_paths

fake_hub = test_downloads.fake_hub  # the stand-in hub, serving the embedded model


def test_a_complete_part_left_by_a_kill_is_verified_and_finished_without_asking(fake_hub: FakeHub) -> None:
    model = entry(fake_hub)
    fake_hub.drop_after = 5_000_000
    with pytest.raises(DownloadError):
        pull(model, get_paths())
    dest = model.local_path(get_paths())
    whole = fake_hub.repos[REPO][FILE].path.read_bytes()
    downloads.part_path(dest).write_bytes(whole)  # every byte there, the rename never done
    fake_hub.refuse_ranges = True  # what a real server answers to "the rest" of a complete file
    assert pull(model, get_paths()) == dest
    assert dest.read_bytes() == fake_hub.repos[REPO][FILE].path.read_bytes()
    assert fake_hub.bytes_sent_for(FILE) == [None]  # only the first attempt's GET


def test_a_refused_resume_starts_over(fake_hub: FakeHub) -> None:
    model = entry(fake_hub)
    fake_hub.drop_after = 5_000_000
    with pytest.raises(DownloadError):
        pull(model, get_paths())
    fake_hub.refuse_ranges = True
    dest = pull(model, get_paths())
    assert dest.read_bytes() == fake_hub.repos[REPO][FILE].path.read_bytes()
    assert fake_hub.bytes_sent_for(FILE) == [None, "bytes=5000000-", None]


def test_a_server_error_reads_as_the_hubs_not_as_a_disk_error(fake_hub: FakeHub) -> None:
    model = entry(fake_hub)
    fake_hub.fail_next = 500
    with pytest.raises(DownloadError) as caught:
        pull(model, get_paths())
    said = str(caught.value)
    assert "HTTP 500" in said and "try again later" in said and "cannot write" not in said
    assert pull(model, get_paths()).is_file()  # and the next try works


def test_a_stalled_download_stops_and_resumes(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    model = entry(fake_hub)
    monkeypatch.setattr(downloads, "STALL_SECONDS", 1.0)
    fake_hub.stall_after = 3_000_000
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"no data for 1 s after .* run it again to resume"):
        pull(model, get_paths())
    assert time.monotonic() - started < 10
    kept = downloads.pending_download(model.local_path(get_paths()))
    assert kept == 3_000_000
    pull(model, get_paths())
    assert fake_hub.bytes_sent_for(FILE)[-1] == f"bytes={kept}-"


def pull_command(home: Path, hub: FakeHub, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "LLM_TUI_HOME": str(home), "HF_ENDPOINT": hub.url}
    env.pop("HF_HUB_OFFLINE", None)
    return subprocess.Popen(
        [sys.executable, "-m", "tui", "models", "pull", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_ctrl_c_stops_a_stalled_pull_at_once(fake_hub: FakeHub, llm_home: Path) -> None:
    model = entry(fake_hub)
    fake_hub.stall_after = 2_000_000
    process = pull_command(llm_home, fake_hub, model.id)
    deadline = time.monotonic() + 30
    while downloads.pending_download(model.local_path(get_paths())) < 2_000_000:
        assert time.monotonic() < deadline and process.poll() is None, "the download never started"
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    _out, err = process.communicate(timeout=10)
    assert time.monotonic() - stopped < 2.0
    assert process.returncode != 0 and "cancelled" in err and "resume" in err and "Traceback" not in err


def test_a_data_folder_that_is_a_file_is_said_not_crashed(fake_hub: FakeHub, llm_home: Path) -> None:
    model = entry(fake_hub)
    get_paths().data.mkdir(parents=True)
    get_paths().models.write_text("not a folder")
    process = pull_command(llm_home, fake_hub, model.id)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "cannot write: a folder on its path is a file" in err and str(get_paths().models) in err
