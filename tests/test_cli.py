"""The `llm-tui` command, run as a user runs it."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SMOLLM_DEFAULT = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
ALMO = "You are Almo, a model developed by Allen AI."


def llm_tui(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LLM_TUI_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_prompt_shows_the_hidden_default_system_message(llm_home: Path) -> None:
    done = llm_tui("prompt", "Who are you?", home=llm_home)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"<|im_start|>system\n{SMOLLM_DEFAULT}<|im_end|>\n"
        "<|im_start|>user\nWho are you?<|im_end|>\n<|im_start|>assistant\n"
    )
    assert "tokens" in done.stderr and "Traceback" not in done.stderr


def test_system_replaces_the_default_and_no_system_keeps_it(llm_home: Path) -> None:
    done = llm_tui("prompt", "Who are you?", "--system", ALMO, home=llm_home)
    assert ALMO in done.stdout and "SmolLM" not in done.stdout
    done = llm_tui("--no-system", "prompt", "Who are you?", home=llm_home)
    assert SMOLLM_DEFAULT in done.stdout


def test_prompt_tokens_and_json(llm_home: Path) -> None:
    tokens = llm_tui("prompt", "Hi", "--tokens", home=llm_home)
    lines = tokens.stdout.splitlines()
    assert lines[0].split()[:3] == ["0", "1", "*"] and "'<|im_start|>'" in lines[0]
    data = json.loads(llm_tui("prompt", "Hi", "--json", home=llm_home).stdout)
    assert [t["id"] for t in data["tokens"]][:1] == [1]
    assert "".join(t["piece"] for t in data["tokens"]) == data["text"]
    assert len(lines) == len(data["tokens"])
    assert data["spans"][0]["role"] == "user"


def test_ask_streams_a_reply_and_reports_stats(llm_home: Path) -> None:
    done = llm_tui("ask", "Say hello.", "--seed", "5", "--max-tokens", "12", "-t", "0", home=llm_home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert "seed 5" in done.stderr and "tok/s" in done.stderr
    again = llm_tui("ask", "Say hello.", "--seed", "5", "--max-tokens", "12", "-t", "0", home=llm_home)
    assert again.stdout == done.stdout  # one-shot: every call is a fresh session


def test_info_and_paths(llm_home: Path) -> None:
    info = llm_tui("info", home=llm_home)
    assert info.returncode == 0
    assert "gpu offload:" in info.stdout and "SmolLM2-135M-Instruct.Q4_1.gguf" in info.stdout
    paths = llm_tui("paths", home=llm_home)
    assert str(llm_home) in paths.stdout and "sessions" in paths.stdout
    assert not llm_home.exists()  # printing paths creates nothing


def test_version_everywhere(llm_home: Path) -> None:
    for args in (
        ["--version"],
        ["ask", "--version"],
        ["prompt", "--version"],
        ["info", "--version"],
    ):
        done = llm_tui(*args, home=llm_home)
        assert done.returncode == 0 and done.stdout.startswith("llm-tui ")


def test_help_lists_every_command_and_each_command_has_its_own_options(llm_home: Path) -> None:
    """Options are added when a command is parsed (for a fast --help): each must still be there."""
    from tui.cli.parser import COMMANDS, build_parser

    top = llm_tui("--help", home=llm_home)
    assert top.returncode == 0
    for name, summary, _fill, runner in COMMANDS:
        assert f"    {name} " in top.stdout and " ".join(summary.split()[:3]) in top.stdout
        module, _, function = runner.partition(":")
        assert callable(getattr(importlib.import_module(module), function))  # the row's runner exists
        parser = build_parser()
        with pytest.raises(SystemExit) as done:
            parser.parse_args([name, "--help"])
        assert done.value.code == 0
    helps = {name: llm_tui(name, "--help", home=llm_home).stdout for name in ("prompt", "ask", "models")}
    assert "--parts" in helps["prompt"] and "--parts" not in helps["ask"]
    assert "--temperature" in helps["ask"] and "pull" in helps["models"]
    assert llm_tui("models", "pull", "--help", home=llm_home).stdout.startswith("usage: llm-tui models pull")


def test_errors_are_one_line_and_non_zero(llm_home: Path, tmp_path: Path) -> None:
    for args in (
        ["--model", "no-such-model", "prompt", "hi"],
        ["prompt", "hi", "--model", str(tmp_path / "missing.gguf")],
        ["ask", "hi", "--model", "gemma-2-2b-it"],
    ):
        done = llm_tui(*args, home=llm_home)
        assert done.returncode == 1
        assert done.stderr.startswith("llm-tui: error: ") and done.stderr.count("\n") == 1
        assert "Traceback" not in done.stderr
    bad = tmp_path / "bad.gguf"
    bad.write_text("nope")
    done = llm_tui("prompt", "hi", "--model", str(bad), home=llm_home)
    assert done.returncode == 1 and "not a GGUF file" in done.stderr
