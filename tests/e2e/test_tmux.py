"""End to end: the installed `llm-tui` command in a real terminal (tmux), as a newcomer uses it."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.tmux import COMMAND, Tmux

pytestmark = pytest.mark.e2e


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
