"""A reader that has gone before anything is written (`llm-tui paths | true`): every command ends
with 141, as shell tools do, or 0, and the pipe adds nothing on stderr (no "Exception ignored")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMANDS = [
    ["--version"],
    ["--help"],
    ["paths"],
    ["models", "list"],
    ["models", "--help"],
    ["personas", "list"],
    ["personas", "show", "almo"],
    ["sessions", "list"],
    ["prompt", "hi"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_short_output_into_a_closed_pipe(llm_home: Path, args: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command starts: every write fails
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tui", *args],
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=120,
            env={**os.environ, "LLM_TUI_HOME": str(llm_home)},
        )  # fmt: skip
    finally:
        os.close(write)
    assert done.returncode in (0, 141), done.stderr
    said = done.stderr.replace("no saved sessions yet\n", "")  # the command's own note, not the pipe's
    assert said == ""
