"""Downloading a GGUF: progress, cancel, resume across restarts, sha256 verified before use.

huggingface_hub does not resume an interrupted download across attempts (each attempt writes a fresh
temporary file and deletes it on failure: huggingface/huggingface_hub#4196, "No resuming of
downloads", open as of 2026), so resuming is ours; drop this once the hub client resumes again:
the bytes so far stay in ``<file>.part``, a small JSON note says which remote file they belong to,
and the next attempt asks for the rest with an HTTP Range request. Requests go through
huggingface_hub's own HTTP session and headers (endpoint, token, user agent).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tui.core.atomic import write_error
from tui.core.hangup import cut, on_stop
from tui.core.models.hub import HubError, RemoteFile, explain
from tui.core.problems import ProblemError

CHUNK = 1 << 20
DISK_MARGIN = 64 << 20
"""Free space kept beyond the file itself, so a download never fills the disk to the last byte."""
PROGRESS_SECONDS = 0.1
CONNECT_SECONDS = 15.0
"""Longest wait for the hub to accept a connection."""
STALL_SECONDS = 30.0
"""Longest wait for the next bytes: a stalled download stops, keeping its .part to resume."""


class DownloadError(ProblemError):
    """The download stopped; the message says why and whether running it again resumes it."""


class DownloadCancelled(DownloadError):
    pass


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    bytes_per_second: float

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def eta_seconds(self) -> float | None:
        if self.bytes_per_second <= 0:
            return None
        return (self.total - self.done) / self.bytes_per_second


ProgressCallback = Callable[[Progress], None]


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _note_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part.json")


def files_of(dest: Path) -> list[Path]:
    """Everything on disk for ``dest``: the file, or an unfinished download of it."""
    return [p for p in (dest, part_path(dest), _note_path(dest)) if p.exists()]


def quarantine_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".corrupt")


def download(
    remote: RemoteFile,
    dest: Path,
    *,
    expected_sha256: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Fetch ``remote`` to ``dest``, continuing a partial download if one matches it."""
    if dest.is_file():
        return dest
    want = (expected_sha256 or remote.sha256 or "").lower() or None
    part, note = part_path(dest), _note_path(dest)
    identity = {"repo": remote.repo, "file": remote.file, "size": remote.size, "sha256": want}
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        start = _resumable_bytes(part, note, identity)
        if start == 0:
            _start_over(part, note, identity)
        _check_space(dest.parent, remote.size - start)
        if start == remote.size:  # all there (killed before the rename): verify, ask nothing
            done, digest = start, _hash_file(part).hexdigest()
        else:
            try:
                done, digest = _fetch(remote, part, start, progress, cancel or threading.Event())
            except _RangeRefused:
                _start_over(part, note, identity)
                done, digest = _fetch(remote, part, 0, progress, cancel or threading.Event())
    except (DownloadError, HubError):
        raise
    except OSError as exc:  # the data folder: read-only, full, or a file where a folder should be
        raise _disk_error(exc.filename or dest.parent, exc, "nothing was downloaded") from exc
    if done != remote.size:
        raise DownloadError(
            f"{remote.file}: got {done} of {remote.size} bytes; run it again to resume from there"
        )
    if want and digest != want:
        bad = quarantine_path(dest)
        os.replace(part, bad)
        note.unlink(missing_ok=True)
        raise DownloadError(
            f"{remote.file} failed verification: sha256 {digest}, expected {want}. "
            f"It was moved to {bad} and will not be loaded."
        )
    os.replace(part, dest)
    note.unlink(missing_ok=True)
    return dest


def _disk_error(path: Path | str, exc: OSError, hint: str) -> DownloadError:
    return DownloadError(str(write_error(path, exc, hint)))  # a DownloadError: the callers' one type


class _RangeRefused(Exception):
    """The server refused to send the rest (HTTP 416): the .part is not what it has."""


def _start_over(part: Path, note: Path, identity: dict[str, object]) -> None:
    part.unlink(missing_ok=True)
    note.write_text(json.dumps(identity))


def _resumable_bytes(part: Path, note: Path, identity: dict[str, object]) -> int:
    """Bytes already on disk that belong to this very file (same name, size and hash), else 0."""
    try:
        if json.loads(note.read_text()) != identity:
            return 0
        size = part.stat().st_size
    except (OSError, ValueError):
        return 0
    return size if size <= int(str(identity["size"])) else 0


def _check_space(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed + DISK_MARGIN:
        raise DownloadError(
            f"not enough disk space in {folder}: the download needs {human_bytes(needed)} "
            f"(plus {human_bytes(DISK_MARGIN)} to spare), {human_bytes(free)} is free"
        )


def _hash_file(path: Path) -> hashlib._Hash:
    hasher = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            hasher.update(block)
    return hasher


class _BackgroundHash:
    """sha256 on a thread of its own, so the receiving thread only reads and writes.

    hashlib releases the GIL on large blocks, so hashing runs beside the socket reads (on 2 cores it
    was the download's limit). The queue is bounded: a slow hasher slows the download, never fills
    memory.
    """

    def __init__(self, hasher: hashlib._Hash) -> None:
        self._hasher = hasher
        self._blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)

    def __enter__(self) -> _BackgroundHash:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._blocks.put(None)
        self._thread.join()

    def update(self, block: bytes) -> None:
        self._blocks.put(block)

    def _run(self) -> None:
        while (block := self._blocks.get()) is not None:
            self._hasher.update(block)

    def hexdigest(self) -> str:
        """Only after the ``with`` block: every byte has been hashed by then."""
        return self._hasher.hexdigest()


def _fetch(
    remote: RemoteFile,
    part: Path,
    start: int,
    progress: ProgressCallback | None,
    cancel: threading.Event,
) -> tuple[int, str]:
    """Stream the file (from ``start``) into ``part``; the byte count and sha256 of the whole part."""
    import httpx2  # imported here: the hub client is not needed until something downloads
    from huggingface_hub import get_session, hf_raise_for_status
    from huggingface_hub.errors import HfHubHTTPError
    from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

    headers = build_hf_headers()
    headers["Accept-Encoding"] = "identity"
    if start:
        headers["Range"] = f"bytes={start}-"
    done = start
    began, reported = time.monotonic(), 0.0
    timeout = httpx2.Timeout(STALL_SECONDS, connect=CONNECT_SECONDS)
    request = get_session().stream("GET", remote.url, headers=headers, follow_redirects=True, timeout=timeout)
    try:
        with request as response, on_stop(cancel, lambda: cut(response.extensions.get("network_stream"))):
            if start and response.status_code == 416:
                raise _RangeRefused
            if response.status_code >= 400:
                response.read()
                hf_raise_for_status(response)
            if start and response.status_code != 206:  # the server ignored the range: start over
                start = done = 0
            hasher = _BackgroundHash(_hash_file(part) if start else hashlib.sha256())
            with hasher, part.open("ab" if start else "wb") as f:
                for block in response.iter_bytes():
                    if cancel.is_set():
                        raise DownloadCancelled(f"{remote.file}: cancelled; run it again to resume")
                    f.write(block)
                    hasher.update(block)
                    done += len(block)
                    now = time.monotonic()
                    if progress and (now - reported >= PROGRESS_SECONDS or done == remote.size):
                        reported = now
                        rate = (done - start) / max(now - began, 1e-6)
                        progress(Progress(done, remote.size, rate))
    except (DownloadError, _RangeRefused):
        raise
    except (HfHubHTTPError, httpx2.HTTPStatusError) as exc:  # an HTTP answer, not a disk error
        raise DownloadError(str(explain(exc, remote.repo, remote.file))) from exc
    except httpx2.TransportError as exc:
        so_far = f"after {human_bytes(done)} of {human_bytes(remote.size)}"
        if cancel.is_set():
            raise DownloadCancelled(f"{remote.file}: cancelled {so_far}; run it again to resume") from exc
        how = (
            f"no data for {STALL_SECONDS:g} s"
            if isinstance(exc, httpx2.TimeoutException)
            else "the connection broke"
        )
        raise DownloadError(f"{remote.file}: {how} {so_far}; run it again to resume from there") from exc
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise DownloadError(f"the disk is full while writing {part}; free some space and resume") from exc
        raise _disk_error(part, exc, "run it again to resume") from exc
    except Exception as exc:  # noqa: BLE001 - whatever else the hub client raised, made readable
        error: HubError = explain(exc, remote.repo, remote.file)
        raise DownloadError(str(error)) from exc
    return done, hasher.hexdigest()


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


def describe(progress: Progress) -> str:
    """``45.2%  44.5 MB of 98.4 MB  12.1 MB/s  ETA 4s`` for progress lines and bars."""
    eta = progress.eta_seconds
    eta_text = f"ETA {eta:.0f}s" if eta is not None else "ETA ?"
    return (
        f"{progress.fraction * 100:5.1f}%  {human_bytes(progress.done)} of {human_bytes(progress.total)}  "
        f"{human_bytes(progress.bytes_per_second)}/s  {eta_text}"
    )


def pending_download(dest: Path) -> int:
    """Bytes of an unfinished download of ``dest`` on disk (0 if none)."""
    try:
        return part_path(dest).stat().st_size
    except OSError:
        return 0
