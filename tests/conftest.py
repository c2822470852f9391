"""Shared fixtures: a private LLM_TUI_HOME for each test, the embedded SmolLM2, a tmux terminal."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tmux import Tmux
from tui.core.models.embedded import INSTALL_HINT, embedded_model_path


@pytest.fixture(autouse=True)
def llm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own home: nothing reads or writes the real config, data or cache."""
    home = tmp_path / "llm-tui-home"
    monkeypatch.setenv("LLM_TUI_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def model_path() -> Path:
    path = embedded_model_path()
    if path is None:
        pytest.fail(f"the embedded SmolLM2 model is required for the tests: {INSTALL_HINT}")
    return path


@pytest.fixture(scope="session")
def engine(model_path: Path) -> Iterator[object]:
    """One real engine shared by tests that only read from it (each resets it as it needs)."""
    from tui.core.engine.llama import Engine
    from tui.core.engine.values import LoadOptions

    loaded = Engine(model_path, LoadOptions(n_ctx=2048))
    yield loaded
    loaded.close()


@pytest.fixture
def tmux(llm_home: Path, tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is required for the end-to-end test (`apt-get install tmux`)")
    editor = tmp_path / "fake-editor"
    editor.write_text('#!/bin/sh\nsed -i "s/Almo/Bilbo/" "$1"\n')
    editor.chmod(0o755)
    term = Tmux(f"llm-tui-test-{uuid.uuid4().hex[:8]}")
    shell = ["env", f"LLM_TUI_HOME={llm_home}", f"VISUAL={editor}", "PS1=$ ", "bash", "--norc", "--noprofile"]
    term("-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", "110", "-y", "32", *shell)
    try:
        yield term
    finally:
        subprocess.run(["tmux", "-L", term.socket, "kill-server"], capture_output=True)
