"""Downloads through the real huggingface_hub client against a local hub-compatible server."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hubserver import COMMIT, FakeHub, serve
from tui.core.chat.sampling import Sampling
from tui.core.engine.llama import Engine
from tui.core.engine.values import LoadOptions, Piece
from tui.core.models import downloads, hub
from tui.core.models.catalog import (
    CatalogEntry,
    ModelNotFoundError,
    add_user_entry,
    load_catalog,
    resolve_model,
)
from tui.core.models.downloads import DownloadCancelled, DownloadError, Progress, quarantine_path
from tui.core.models.local import model_status, pull
from tui.core.prompt.messages import Message
from tui.paths import get_paths

REPO, FILE = "test-org/SmolLM2-GGUF", "smollm2-135m-q4_1.gguf"


@pytest.fixture
def fake_hub(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    server = FakeHub()
    server.host(REPO, FILE, model_path)
    with serve(server) as running:
        monkeypatch.setenv("HF_ENDPOINT", running.url)
        yield running


def entry(fake_hub: FakeHub, sha256: str | None = None) -> CatalogEntry:
    hosted = fake_hub.repos[REPO][FILE]
    add_user_entry(
        get_paths(),
        {
            "id": "test-smollm2",
            "name": "Test SmolLM2",
            "repo": REPO,
            "file": FILE,
            "revision": "main",
            "size": hosted.size,
            "sha256": sha256 or hosted.sha256,
        },
    )
    return load_catalog(get_paths()).entries["test-smollm2"]


def test_pull_reports_progress_verifies_and_the_model_then_replies(fake_hub: FakeHub) -> None:
    model = entry(fake_hub)
    seen: list[Progress] = []
    path = pull(model, get_paths(), progress=seen.append)
    assert path == model.local_path(get_paths()) and path.is_file()
    assert path.read_bytes() == fake_hub.repos[REPO][FILE].path.read_bytes()
    assert seen and seen[-1].done == seen[-1].total == fake_hub.repos[REPO][FILE].size
    assert all(a.done <= b.done for a, b in zip(seen, seen[1:], strict=False))
    assert seen[-1].bytes_per_second > 0 and "100.0%" in downloads.describe(seen[-1])
    assert not downloads.part_path(path).exists()
    assert model_status(model, get_paths()) == "yes"
    engine = Engine(resolve_model("test-smollm2", get_paths()).path, LoadOptions(n_ctx=512))
    prompt = engine.build_prompt([Message("user", "Say hi")])
    pieces = [e.text for e in engine.generate(prompt, Sampling(max_tokens=8, seed=1)) if isinstance(e, Piece)]
    assert "".join(pieces).strip()
    engine.close()


def test_cancel_keeps_the_part_and_a_later_pull_resumes(fake_hub: FakeHub) -> None:
    model = entry(fake_hub)
    fake_hub.chunk_delay = 0.01  # slow enough that a progress report comes before the end
    cancel = threading.Event()

    def stop_early(progress: Progress) -> None:
        if progress.done > 10_000_000:
            cancel.set()

    with pytest.raises(DownloadCancelled, match="resume"):
        pull(model, get_paths(), progress=stop_early, cancel=cancel)
    dest = model.local_path(get_paths())
    kept = downloads.pending_download(dest)
    assert 10_000_000 < kept < fake_hub.repos[REPO][FILE].size
    assert model_status(model, get_paths()).startswith("partial ")
    pull(model, get_paths())
    assert fake_hub.bytes_sent_for(FILE)[-1] == f"bytes={kept}-"  # only the missing bytes
    assert dest.read_bytes() == fake_hub.repos[REPO][FILE].path.read_bytes()


def test_a_dropped_connection_resumes_from_the_bytes_on_disk(fake_hub: FakeHub) -> None:
    model = entry(fake_hub)
    fake_hub.drop_after = 30_000_000
    with pytest.raises(DownloadError, match="connection broke after .* run it again to resume"):
        pull(model, get_paths())
    dest = model.local_path(get_paths())
    kept = downloads.pending_download(dest)
    assert kept == 30_000_000
    pull(model, get_paths())
    ranges = fake_hub.bytes_sent_for(FILE)
    assert ranges == [None, f"bytes={kept}-"]
    assert dest.read_bytes() == fake_hub.repos[REPO][FILE].path.read_bytes()


def test_a_part_of_another_file_is_not_resumed(fake_hub: FakeHub) -> None:
    model = entry(fake_hub)
    dest = model.local_path(get_paths())
    dest.parent.mkdir(parents=True)
    downloads.part_path(dest).write_bytes(b"x" * 1000)  # no note saying what it is a part of
    pull(model, get_paths())
    assert fake_hub.bytes_sent_for(FILE) == [None]
    assert dest.read_bytes() == fake_hub.repos[REPO][FILE].path.read_bytes()


def test_a_sha256_mismatch_is_quarantined_and_never_loaded(fake_hub: FakeHub) -> None:
    model = entry(fake_hub)
    fake_hub.corrupt = True
    with pytest.raises(DownloadError, match="failed verification: sha256 .* will not be loaded"):
        pull(model, get_paths())
    dest = model.local_path(get_paths())
    assert not dest.exists() and quarantine_path(dest).is_file()
    with pytest.raises(ModelNotFoundError, match="not on this machine"):
        resolve_model("test-smollm2", get_paths())


def test_a_catalog_pin_that_disagrees_with_the_hub_is_refused(fake_hub: FakeHub) -> None:
    model = entry(fake_hub, sha256="0" * 64)
    with pytest.raises(DownloadError, match="failed verification"):
        pull(model, get_paths())


def test_not_found_and_gated(fake_hub: FakeHub) -> None:
    with pytest.raises(hub.HubError, match="repository nobody/nothing not found"):
        hub.remote_file("nobody/nothing", "x.gguf")
    with pytest.raises(hub.HubError, match="missing.gguf not found in test-org/SmolLM2-GGUF"):
        hub.remote_file(REPO, "missing.gguf")
    fake_hub.gated.add(REPO)
    with pytest.raises(hub.HubError, match="gated: accept its licence .* `hf auth login`"):
        hub.remote_file(REPO, FILE)


def test_metadata_comes_from_the_hub(fake_hub: FakeHub) -> None:
    remote = hub.remote_file(REPO, FILE)
    hosted = fake_hub.repos[REPO][FILE]
    assert (remote.size, remote.sha256, remote.commit) == (hosted.size, hosted.sha256, COMMIT)
    assert [f.name for f in hub.gguf_files(REPO)] == [FILE]


def test_offline_mode_opens_no_socket(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    model = entry(fake_hub)

    def no_network(*_args: object) -> None:
        raise AssertionError("a socket was opened in offline mode")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(hub.OfflineError):
        pull(model, get_paths(), offline_flag=True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub.OfflineError):
        pull(model, get_paths())
    with pytest.raises(hub.OfflineError):
        hub.gguf_files(REPO)
    assert resolve_model(None, get_paths()).path.is_file()  # the embedded model needs no network


def test_not_enough_disk_space_is_refused_before_downloading(
    fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = entry(fake_hub)
    usage = shutil.disk_usage("/")
    monkeypatch.setattr(downloads.shutil, "disk_usage", lambda _p: usage._replace(free=50_000_000))
    with pytest.raises(DownloadError, match="not enough disk space .* 50.0 MB is free"):
        pull(model, get_paths())
    assert fake_hub.bytes_sent_for(FILE) == []
