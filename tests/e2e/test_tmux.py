"""End to end: the installed `llm-tui` command in a real terminal (tmux), as a newcomer uses it."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

COMMAND = Path(sys.executable).parent / "llm-tui"


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "main")

    def wait_for(self, what: Callable[[str], bool], timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if what(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the screen shows:\n{text}")
            time.sleep(0.2)


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


def test_chat_new_session_and_quit_in_a_real_terminal(tmux: Tmux) -> None:
    assert COMMAND.exists(), f"the llm-tui command is not installed at {COMMAND}"
    tmux("send-keys", "-t", "main", shlex.quote(str(COMMAND)), "Enter")
    tmux.wait_for(lambda s: "context 0/" in s)  # the model has loaded (CPU or GPU: either build)
    tmux("send-keys", "-t", "main", "-l", "Say hello in five words")
    tmux("send-keys", "-t", "main", "Enter")
    screen = tmux.wait_for(lambda s: "tok/s · seed" in s or "tokens · first token" in s)
    assert "Say hello in five words" in screen

    tmux("send-keys", "-t", "main", "C-n")
    screen = tmux.wait_for(lambda s: "remembers nothing" in s)
    assert "Session #2 started" in screen and "Say hello in five words" not in screen

    tmux("send-keys", "-t", "main", "C-q")
    tmux.wait_for(lambda s: s.rstrip().endswith("$"), timeout=20)
    assert tmux("display-message", "-p", "-t", "main", "#{alternate_on}").strip() == "0"
    tmux("send-keys", "-t", "main", "echo restored-$((40+2))", "Enter")
    tmux.wait_for(lambda s: "restored-42" in s, timeout=10)


def test_edit_a_persona_in_the_users_own_editor(tmux: Tmux, llm_home: Path) -> None:
    tmux("send-keys", "-t", "main", shlex.quote(str(COMMAND)), "Enter")
    tmux.wait_for(lambda s: "context 0/" in s)
    tmux("send-keys", "-t", "main", "F3")
    tmux.wait_for(lambda s: "Personas: the hidden system message" in s)
    tmux("send-keys", "-t", "main", "Home")
    tmux("send-keys", "-t", "main", "e")
    tmux.wait_for(lambda s: "saving writes your own copy" in s and "✓ valid" in s)
    tmux("send-keys", "-t", "main", "C-o")  # suspends the app, runs $VISUAL, comes back
    screen = tmux.wait_for(lambda s: "You are Bilbo, a model developed by Allen AI" in s)
    assert "✓ valid" in screen
    user_copy = llm_home / "config" / "personas" / "almo.toml"
    assert "Bilbo" in user_copy.read_text()
    tmux("send-keys", "-t", "main", "Escape")
    tmux("send-keys", "-t", "main", "C-q")
    tmux.wait_for(lambda s: s.rstrip().endswith("$"), timeout=20)
