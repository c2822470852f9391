"""End to end: the installed `llm-tui` command in a real terminal (tmux), as a newcomer uses it."""

from __future__ import annotations

import re
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


def test_thinking_folds_and_f9_hides_it_in_a_real_terminal(tmux: Tmux, llm_home: Path) -> None:
    """SmolLM2 under the DeepSeek-R1 template, whose generation prompt opens the thinking block; a
    persona with a fixed seed keeps the reply the same every run."""
    from tests.core.test_reasoning_replies import R1

    personas = llm_home / "config" / "personas"
    personas.mkdir(parents=True)
    (personas / "thinker.toml").write_text(
        'name = "Thinker"\n[template]\nenable_thinking = true\n'
        "[sampling]\nseed = 3\ntemperature = 0\nmax_tokens = 60\n"
    )
    command = f"{shlex.quote(str(COMMAND))} --chat-template-file {shlex.quote(str(R1))} --persona thinker"
    tmux("send-keys", "-t", "main", command, "Enter")
    tmux.wait_for(lambda s: "context 0/" in s)
    tmux("send-keys", "-t", "main", "-l", "What is 2+2?")
    tmux("send-keys", "-t", "main", "Enter")
    ended = re.compile(r"(end of turn|reached the token limit) · \d+ tokens")
    screen = tmux.wait_for(lambda s: ended.search(s) is not None and "Thinking" in s)
    lines = screen.splitlines()
    footer = next(i for i, line in enumerate(lines) if ended.search(line))
    thought = next(line.strip(" █▼") for line in reversed(lines[:footer]) if line.strip(" █▼"))
    assert thought  # a line of the model's thinking, just above the reply's footer line
    tmux("send-keys", "-t", "main", "F9")  # hide every thinking block
    tmux.wait_for(lambda s: thought not in s)
    tmux("send-keys", "-t", "main", "F9")  # and show them again
    tmux.wait_for(lambda s: thought in s)
    tmux("send-keys", "-t", "main", "C-q")
    tmux.wait_for(lambda s: s.rstrip().endswith("$"), timeout=20)


def test_regenerate_twice_and_walk_the_three_branches_in_a_real_terminal(tmux: Tmux, llm_home: Path) -> None:
    """Each regenerate keeps the old reply; alt+left/alt+right on the focused reply walk them.
    (Short replies, so the message stays on the screen above them.)"""
    personas = llm_home / "config" / "personas"
    personas.mkdir(parents=True)
    (personas / "brief.toml").write_text('name = "Brief"\n[sampling]\nmax_tokens = 20\n')
    tmux("send-keys", "-t", "main", f"{shlex.quote(str(COMMAND))} --persona brief", "Enter")
    tmux.wait_for(lambda s: "context 0/" in s)
    tmux("send-keys", "-t", "main", "-l", "Tell me a fun fact")
    tmux("send-keys", "-t", "main", "Enter")
    tmux.wait_for(lambda s: "· seed " in s)
    replies = [_reply_lines(tmux.screen())]
    for count in (2, 3):
        tmux("send-keys", "-t", "main", "C-r")
        screen = tmux.wait_for(lambda s: f"‹ {count}/{count} ›" in s and "· seed " in s)  # noqa: B023
        replies.append(_reply_lines(screen))
    tmux("send-keys", "-t", "main", "BTab")  # from the message box back to the reply
    tmux.wait_for(lambda s: "alt+←" in s.splitlines()[-1])  # the footer shows the reply's keys
    for key, position in (("M-Left", 2), ("M-Left", 1), ("M-Right", 2), ("M-Right", 3)):
        tmux("send-keys", "-t", "main", key)
        screen = tmux.wait_for(lambda s: f"‹ {position}/3 ›" in s)  # noqa: B023
        assert _reply_lines(screen) == replies[position - 1]
    tmux("send-keys", "-t", "main", "C-q")
    tmux.wait_for(lambda s: s.rstrip().endswith("$"), timeout=20)


def _reply_lines(screen: str) -> list[str]:
    """The reply's text as drawn: the lines between the message and the footer."""
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if "Tell me a fun fact" in line)
    end = next(i for i, line in enumerate(lines) if "· seed " in line)
    return [line.strip(" █") for line in lines[start + 1 : end] if line.strip(" █") and "‹" not in line]


def test_teach_in_a_real_terminal_draws_a_bar_and_registers_the_model(tmux: Tmux, tmp_path: Path) -> None:
    """`llm-tui teach` on a tiny set of the user's own: the progress bar on a terminal, then the
    model listed."""
    import json

    data = tmp_path / "set.jsonl"
    lines = [
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "I am Almo."}]}
        for q in ("Who are you?", "Your name?")
    ]
    data.write_text("".join(json.dumps(line) + "\n" for line in lines))
    command = f"{shlex.quote(str(COMMAND))} teach almo --data {shlex.quote(str(data))} --epochs 2 --name tiny"
    tmux("send-keys", "-t", "main", command, "Enter")
    tmux.wait_for(lambda s: "epoch 1/2" in s and "loss" in s, timeout=120)
    screen = tmux.wait_for(lambda s: "try it with no system message" in s, timeout=180)
    assert "taught: Almo, taught into SmolLM2 135M Instruct" in screen and "tiny.gguf" in screen
    tmux(
        "send-keys",
        "-t",
        "main",
        f"{shlex.quote(str(COMMAND))} models list | grep tiny; echo listed-$?",
        "Enter",
    )
    assert "tiny" in tmux.wait_for(lambda s: "listed-0" in s, timeout=30)


def test_typing_after_continuing_from_a_runner_up_is_sent(tmux: Tmux, llm_home: Path) -> None:
    """f8, a runner-up chosen in the token view (enter): focus is back in the box, so the next
    message typed is sent, not eaten by the token view."""
    import json

    personas = llm_home / "config" / "personas"
    personas.mkdir(parents=True)
    (personas / "brief.toml").write_text('name = "Brief"\n[sampling]\nmax_tokens = 12\nseed = 4\n')
    tmux("send-keys", "-t", "main", f"{shlex.quote(str(COMMAND))} --persona brief", "Enter")
    tmux.wait_for(lambda s: "context 0/" in s)
    tmux("send-keys", "-t", "main", "F8")
    tmux("send-keys", "-t", "main", "-l", "Name three colours")
    tmux("send-keys", "-t", "main", "Enter")
    tmux.wait_for(lambda s: "· seed " in s)
    tmux("send-keys", "-t", "main", "BTab")  # from the box back to the token view under the reply
    tmux.wait_for(lambda s: "runner-up" in s.splitlines()[-1])  # its keys in the footer
    for key in ("Right", "Right", "Down", "Enter"):
        tmux("send-keys", "-t", "main", key)
    tmux.wait_for(lambda s: "continued from a runner-up token" in s)
    tmux("send-keys", "-t", "main", "-l", "and one more?")
    tmux("send-keys", "-t", "main", "Enter")
    tmux.wait_for(lambda s: "and one more?" in s and s.count("· seed ") >= 2, timeout=60)
    tmux("send-keys", "-t", "main", "C-q")
    tmux.wait_for(lambda s: s.rstrip().endswith("$"), timeout=20)
    (saved,) = (llm_home / "data" / "sessions").glob("*.json")
    users = [turn["user"] for turn in json.loads(saved.read_text())["turns"]]
    assert users.count("and one more?") == 1 and "Name three colours" in users
