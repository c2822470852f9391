"""Paths the user names are written as `cp` or a shell redirect would; llm-tui's own files are not
targets; names and text that are not valid UTF-8 print, never crash (the real command)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.ui.helpers import FakeEngine
from tui.core.chat import transcripts
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.paths import get_paths


def llm_tui(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    full = {**os.environ, "LLM_TUI_HOME": str(home), **(env or {})}
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, env=full, timeout=60)


@pytest.fixture
def saved(llm_home: Path) -> Path:
    """A saved session whose reply holds a lone surrogate (as a JSON escape can)."""
    engine = FakeEngine()
    chat = Chat(engine, None, Sampling(max_tokens=8, seed=1))
    list(chat.send("hello"))
    path = transcripts.save(get_paths(), chat.session, engine.info, None)
    assert path is not None
    data = json.loads(path.read_text())
    data["turns"][0]["reply"] = "broken \ud800 reply"
    path.write_text(json.dumps(data))  # ensure_ascii: the surrogate is written as \\ud800
    return path


def session_id(path: Path) -> str:
    return path.stem.rsplit("-", 1)[1]


def test_export_into_a_fifo_writes_through_it(llm_home: Path, saved: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    done = llm_tui(llm_home, "sessions", "export", session_id(saved), "-o", str(fifo))
    reader.join(30)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still a FIFO, not replaced by a file
    assert b"hello" in got[0] and "broken \ufffd reply".encode() in got[0]


def test_export_to_dev_null_and_a_descriptor(llm_home: Path, saved: Path) -> None:
    done = llm_tui(llm_home, "sessions", "export", session_id(saved), "-o", "/dev/null")
    assert done.returncode == 0 and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    done = llm_tui(llm_home, "sessions", "export", session_id(saved), "-o", "/dev/fd/1")
    assert done.returncode == 0, done.stderr
    assert b"hello" in done.stdout


def test_export_through_a_link_keeps_the_link(llm_home: Path, saved: Path, tmp_path: Path) -> None:
    real, link = tmp_path / "real.md", tmp_path / "link.md"
    real.write_text("old")
    link.symlink_to(real)
    done = llm_tui(llm_home, "sessions", "export", session_id(saved), "-o", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and b"hello" in real.read_bytes()


@pytest.mark.parametrize("own", ["session", "config"])
def test_export_onto_llm_tuis_own_files_is_refused(llm_home: Path, saved: Path, own: str) -> None:
    target = saved if own == "session" else get_paths().config_file
    before = target.read_bytes() if target.exists() else None
    done = llm_tui(llm_home, "sessions", "export", session_id(saved), "-o", str(target))
    assert done.returncode == 1 and b"inside llm-tui's own" in done.stderr
    assert (target.read_bytes() if target.exists() else None) == before


def test_a_new_persona_never_replaces_a_link_or_a_case_twin(llm_home: Path, tmp_path: Path) -> None:
    personas = get_paths().user_personas
    personas.mkdir(parents=True)
    (personas / "ghost.toml").symlink_to(tmp_path / "nowhere.toml")
    done = llm_tui(llm_home, "personas", "new", "ghost")
    assert done.returncode == 1 and b"a link claiming the id `ghost`" in done.stderr
    assert (personas / "ghost.toml").is_symlink() and not (tmp_path / "nowhere.toml").exists()
    (personas / "Pirate.toml").write_text('name = "Pirate"\nsystem = "Arr."\n')
    done = llm_tui(llm_home, "personas", "new", "pirate")
    assert done.returncode == 1 and b"Pirate.toml already exists" in done.stderr
    assert sorted(p.name for p in personas.iterdir()) == ["Pirate.toml", "ghost.toml"]


def test_names_that_are_not_utf8_print_on_a_strict_utf8_stdout(tmp_path: Path, saved: Path) -> None:
    """A home folder and a persona file whose names are not UTF-8, and a session with a lone
    surrogate: each command prints (the name's own bytes) and exits 0."""
    home = Path(os.fsdecode(bytes(tmp_path) + b"/h\xffome"))
    personas = home / "config" / "personas"
    personas.mkdir(parents=True)
    (personas / os.fsdecode(b"odd\xfe.toml")).write_text('name = "Odd"\nsystem = "Hi."\n')
    strict = {"PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "C.UTF-8"}
    for args in (["paths"], ["personas", "list"]):
        done = llm_tui(home, *args, env=strict)
        assert done.returncode == 0, done.stderr
        assert b"h\xffome" in done.stdout
    session_home = saved.parents[2]
    done = llm_tui(session_home, "sessions", "show", session_id(saved), env=strict)
    assert done.returncode == 0, done.stderr
    assert "broken \ufffd reply".encode() in done.stdout
