"""Writing to a path the user named (``--output``, ``--write-data``) the way `cp` or a shell
redirect would: through whatever is there.

Atomic replace (temp file and rename) is for llm-tui's own files. A path the user names may be a
FIFO, a device (``/dev/null``), a descriptor (``/dev/fd/1``, ``>(gzip > f)``) or a link: those are
opened and written, never replaced by a regular file. A regular file (or a new one) still goes
through a temp file, so a failed write leaves the old one. llm-tui's own folders are refused as a
target: an export must not overwrite a saved session or ``config.toml``.
"""

from __future__ import annotations

import os
from pathlib import Path

from tui.core.atomic import write_error, write_text_atomic
from tui.core.problems import Problem, ProblemError
from tui.paths import Paths


def write_output(target: Path, text: str, paths: Paths, flag: str = "--output") -> None:
    """Write ``text`` to ``target`` as the user asked; `ProblemError` naming the flag otherwise."""
    where = f"{flag} {target}"
    if target.is_dir():
        raise ProblemError(Problem(where, "is a folder", hint="name a file inside it"))
    own = _own_folder(target, paths)
    if own is not None:
        raise ProblemError(
            Problem(where, f"is inside llm-tui's own {own}", hint="write the output somewhere else")
        )
    if os.path.islink(target) or (os.path.lexists(target) and not target.is_file()):
        try:  # a FIFO, a device, a descriptor or a link: through it, as a shell redirect would
            with open(target, "w", encoding="utf-8", errors="surrogateescape") as stream:
                stream.write(text)
        except OSError as exc:
            raise write_error(where, exc, "nothing else was changed") from exc
        return
    if not target.parent.is_dir():
        raise ProblemError(
            Problem(where, f"the folder {target.parent} does not exist", hint="create it first")
        )
    try:
        write_text_atomic(target, text, create_parents=False)
    except OSError as exc:  # named by the flag the user gave it with
        raise write_error(where, exc.__cause__ if isinstance(exc.__cause__, OSError) else exc) from exc


def _own_folder(target: Path, paths: Paths) -> str | None:
    """Which of llm-tui's own folders ``target`` (links followed) is in, if any; exports are not."""
    try:
        real = Path(os.path.realpath(target))
    except (OSError, ValueError):
        return None
    for name, folder in (
        ("config folder", paths.config),
        ("sessions folder", paths.sessions),
        ("models folder", paths.models),
        ("cache folder", paths.cache),
    ):
        try:
            inside = real.is_relative_to(Path(os.path.realpath(folder)))
        except (OSError, ValueError):
            continue
        if inside:
            return f"{name} ({folder})"
    return None
