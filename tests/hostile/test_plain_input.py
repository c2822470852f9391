"""Plain input that used to end in an internal error (exit 70) is one line naming its source, and
exits 1: a folder that is a file, an $EDITOR that cannot be split, stdout closed, a server URL the
HTTP client would choke on (the real command)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def llm_tui(
    home: Path, *args: str, env: dict[str, str] | None = None, **kw: object
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "LLM_TUI_HOME": str(home), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=full, timeout=60, **kw
    )


def one_line(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error" not in lines[0], done.stderr
    assert all(word in lines[0] for word in words), lines[0]


def test_a_personas_folder_that_is_a_file(llm_home: Path) -> None:
    (llm_home / "config").mkdir(parents=True)
    (llm_home / "config" / "personas").write_text("not a folder")
    one_line(llm_tui(llm_home, "personas", "new", "pirate"), "personas", "a folder on its path is a file")


def test_a_home_that_is_a_file(tmp_path: Path) -> None:
    home = tmp_path / "home-file"
    home.write_text("not a folder")
    one_line(llm_tui(home, "personas", "new", "pirate"), str(home))


def test_an_editor_that_cannot_be_split_copies_nothing(llm_home: Path) -> None:
    done = llm_tui(llm_home, "personas", "edit", "almo", env={"VISUAL": "vim '-c"})
    one_line(done, "$VISUAL cannot be split")
    assert not (llm_home / "config" / "personas" / "almo.toml").exists()


def test_stdout_closed(llm_home: Path) -> None:
    closed = subprocess.run(
        ["sh", "-c", f'exec "{sys.executable}" -m tui paths >&-'],
        capture_output=True, text=True, timeout=60, env={**os.environ, "LLM_TUI_HOME": str(llm_home)},
    )  # fmt: skip
    assert closed.returncode == 0 and closed.stderr.strip().splitlines() == [
        "llm-tui: warning: stdout is closed; what this command prints is lost"
    ]


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://" + "a" * 300 + ":8080", "the host name is not valid"),
        ("http://exa mple:80", "no usable host or port"),
        ("http://host:99999", "Port out of range"),
        ("http://host:port", "not a server URL"),
    ],
)
def test_server_urls_the_http_client_would_refuse(llm_home: Path, url: str, said: str) -> None:
    one_line(llm_tui(llm_home, "--server", url, "info"), "--server", said)
    one_line(llm_tui(llm_home, "ask", "hi", env={"LLM_TUI_SERVER": url}), said)
