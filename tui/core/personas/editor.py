"""The user's own editor ($VISUAL, then $EDITOR), for the CLI and the TUI alike."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from tui.core.problems import ProblemError


class EditorError(ProblemError):
    """No editor is configured, or it could not be started."""


def editor_command() -> list[str]:
    """$VISUAL, else $EDITOR, split as a shell would split it."""
    name = "VISUAL" if os.environ.get("VISUAL") else "EDITOR"
    editor = os.environ.get(name)
    if not editor:
        raise EditorError("set $VISUAL or $EDITOR to the editor you want (for example `export EDITOR=nano`)")
    try:
        command = shlex.split(editor)
    except ValueError as exc:  # unbalanced quotes
        raise EditorError(f"${name} cannot be split as a shell would ({exc}): {editor!r}") from exc
    if not command:
        raise EditorError(f"${name} names no program: {editor!r}")
    return command


def run_editor(path: Path, command: list[str] | None = None) -> None:
    """Run the editor (``command``, else the configured one) on ``path`` and wait for it."""
    command = [*(command or editor_command()), str(path)]
    try:
        done = subprocess.run(command, check=False)
    except OSError as exc:
        raise EditorError(f"cannot start the editor `{command[0]}`: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        raise EditorError(exit_message(command[0], done.returncode))


def exit_message(editor: str, code: int) -> str:
    """An editor that exits non-zero (``EDITOR=false``, vim's :cq) did not save what it was given."""
    return f"the editor `{editor}` exited with status {code}: the file was left as it is on disk"
