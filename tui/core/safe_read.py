"""Reading files that come from outside without trusting them.

A FIFO would block forever, ``/dev/zero`` never ends and a huge file would fill memory, so every text
file llm-tui reads goes through `read_text_bounded`: regular files only, a size cap, UTF-8 checked, and
one `OSError` subclass whose message names the file and says what is wrong.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

TEXT_LIMIT = 4 * 1024 * 1024
"""Personas, catalogs, configs: far larger than any real one, small enough to read at once."""


class UnreadableFile(OSError):
    """The file exists but cannot be used; ``reason`` says why in the user's terms."""

    def __init__(self, path: Path, reason: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {reason}")
        self.path, self.reason, self.line = path, reason, line


def open_regular(path: Path) -> BinaryIO:
    """Open a file for reading only if it is a regular file (a FIFO or a device is refused at once)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise
    except IsADirectoryError as exc:
        raise UnreadableFile(path, "is a folder, not a file") from exc
    except OSError as exc:
        raise UnreadableFile(path, f"cannot be read ({exc.strerror or exc})") from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "is a folder, not a file" if stat.S_ISDIR(mode) else "not a regular file (a pipe or a device?)"
        raise UnreadableFile(path, what)
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_bytes_bounded(path: Path, limit: int = TEXT_LIMIT) -> bytes:
    """The whole file, if it is a regular file of at most ``limit`` bytes.

    ``FileNotFoundError`` passes through unchanged so callers can treat "absent" as "not set".
    """
    with open_regular(path) as f:
        try:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise UnreadableFile(path, f"too large ({size:,} bytes; at most {limit:,} are read)")
            data = f.read(limit + 1)  # the file may grow while it is read
        except UnreadableFile:
            raise
        except OSError as exc:
            raise UnreadableFile(path, f"cannot be read ({exc.strerror or exc})") from exc
    if len(data) > limit:
        raise UnreadableFile(path, f"too large (more than {limit:,} bytes)")
    return data


def read_text_bounded(path: Path, limit: int = TEXT_LIMIT) -> str:
    """`read_bytes_bounded`, decoded as UTF-8; bad bytes are reported with their line."""
    raw = read_bytes_bounded(path, limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        reason = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        raise UnreadableFile(path, reason, line) from exc
