"""A catalog model on this machine: is it here, and fetching it from the hub."""

from __future__ import annotations

import threading
from pathlib import Path

from tui.core import hub
from tui.core.catalog import CatalogEntry
from tui.core.downloads import ProgressCallback, download, pending_download
from tui.core.embedded import DISTRIBUTION, embedded_model_path
from tui.paths import Paths

MODEL_STATUS_EMBEDDED = "embedded"


def model_status(entry: CatalogEntry, paths: Paths) -> str:
    """``embedded``, ``yes``, ``partial 45%`` or ``no``."""
    if entry.get("embedded") == DISTRIBUTION and embedded_model_path() is not None:
        return MODEL_STATUS_EMBEDDED
    path = entry.local_path(paths)
    if path.is_file():
        return "yes"
    partial = pending_download(path)
    size = int(entry.get("size") or 0)
    if partial and size:
        return f"partial {100 * partial // size}%"
    return "no"


def pull(
    entry: CatalogEntry,
    paths: Paths,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    offline_flag: bool = False,
) -> Path:
    """Download ``entry`` into the models folder, verified against its pinned sha256."""
    remote = hub.remote_file(entry.repo, entry.file, entry.get("revision"), offline_flag=offline_flag)
    size = entry.get("size")
    if isinstance(size, int) and size != remote.size:
        raise hub.HubError(
            f"{entry.repo}/{entry.file} is {remote.size} bytes on the hub, the catalog says {size}: "
            "the file was replaced; update the catalog entry"
        )
    return download(
        remote, entry.local_path(paths), expected_sha256=entry.get("sha256"), progress=progress, cancel=cancel
    )
