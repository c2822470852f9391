"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half of one.

A write that fails (a full disk, a read-only one, a folder that is a file) is one `WriteError` that
names the file and why, whoever writes: the CLI prints it as one line, the TUI as a notice.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import tempfile
import time
from pathlib import Path

from tui.core.problems import Problem, ProblemError
from tui.core.text_safety import valid_text

TEMP_PREFIX = "."
TEMP_SUFFIX = ".tmp"
STALE_TEMP_SECONDS = 3600.0
"""A temp file of ours this old was left by a write that was killed: it is removed."""

_WHY = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "not permitted",
    errno.ENOTDIR: "a folder on its path is a file",
    errno.EEXIST: "a folder on its path is a file",  # mkdir of a folder where a file is
    errno.EISDIR: "it is a folder",
    errno.ENAMETOOLONG: "the name is too long",
}


class WriteError(ProblemError, OSError):
    """A file could not be written; still an `OSError`, with the cause's errno."""

    def __init__(self, problem: Problem, cause_errno: int | None = None, why: str = "") -> None:
        super().__init__(problem)
        self.errno = cause_errno
        self.strerror = why or problem.message

    def __str__(self) -> str:
        return str(self.problem)  # not OSError's "[Errno N] ...": the file, what failed, what to do


def write_error(path: Path | str, exc: OSError, hint: str = "nothing was changed") -> WriteError:
    """``exc`` raised while writing ``path``, as one line a user can act on."""
    if isinstance(exc, WriteError):
        return exc
    why = _WHY.get(exc.errno or 0) or exc.strerror or str(exc) or type(exc).__name__
    return WriteError(Problem(str(path), f"cannot write: {why}", hint=hint), exc.errno, why)


def write_text_atomic(path: Path, text: str, create_parents: bool = True) -> None:
    """Write to a temporary file in the same folder, fsync it, then rename it over ``path``.

    On a full or read-only disk a `WriteError` names the file, and the old one is left as it was.
    """
    try:
        _write(path, valid_text(text), create_parents)  # a lone surrogate could not be encoded
    except OSError as exc:
        raise write_error(path, exc) from exc
    _remove_stale_temps(path)


def _write(path: Path, text: str, create_parents: bool) -> None:
    if create_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            temp.chmod(path.stat().st_mode & 0o777)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_dir(path.parent)


def _remove_stale_temps(path: Path) -> None:
    """Temp files of earlier writes of ``path`` that were killed before their rename."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    try:
        for temp in path.parent.glob(f"{TEMP_PREFIX}{glob.escape(path.name)}.*{TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                if temp.is_file() and not temp.is_symlink() and temp.stat().st_mtime < cutoff:
                    temp.unlink()
    except OSError:
        pass


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (where the platform allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
