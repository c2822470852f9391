"""On a terminal, no string from a file or a peer reaches it raw, whichever command prints it: a
server's build and model path, a GGUF's architecture, a catalog's licence (run on a real pty)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.hostile.gguf_craft import header, kv_string
from tests.hostile.peer import Behaviour, Peer

FORGED = "\x1b]0;FORGED-TITLE\x07\x1b[2J\u202e\x9b31m"


def on_a_pty(home: Path, *args: str) -> tuple[int, bytes]:
    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", *args], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
        env={**os.environ, "LLM_TUI_HOME": str(home)},
    )  # fmt: skip
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    return process.wait(60), output


def assert_inert(output: bytes, shown: bool = True) -> None:
    assert b"FORGED-TITLE" in output or not shown  # the text is shown...
    for raw in (b"\x1b]0;FORGED", b"\x1b[2J", "\u202e".encode(), "\x9b".encode()):
        assert raw not in output, f"{raw!r} reached the terminal"  # ...its controls are not


def test_what_a_server_reports_is_shown_inert(llm_home: Path) -> None:
    peer = Peer(Behaviour(props={"build_info": FORGED, "model_path": f"/models/{FORGED}.gguf"}))
    try:
        code, output = on_a_pty(llm_home, "--server", peer.url, "info")
    finally:
        peer.close()
    assert code == 0, output
    assert_inert(output)


def test_a_gguf_architecture_is_shown_inert(llm_home: Path, tmp_path: Path) -> None:
    model = tmp_path / "forged.gguf"
    model.write_bytes(header(kv_string("general.architecture", FORGED.encode()), 1) + b"\0" * 64)
    code, output = on_a_pty(llm_home, "prompt", "--model", str(model), "hi")
    assert code == 1
    assert_inert(output)


def test_a_catalog_entry_with_controls_is_refused_and_shown_inert(llm_home: Path) -> None:
    catalog = llm_home / "config" / "models.toml"
    catalog.parent.mkdir(parents=True)
    forged = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in FORGED)
    catalog.write_text(
        '[[model]]\nid = "forged"\nname = "Forged"\nrepo = "a/b"\nfile = "b.gguf"\n'
        f'size = 1\nlicense = "{forged}"\n'
    )
    code, output = on_a_pty(llm_home, "models", "list")
    assert code == 0
    assert b"must not contain control characters" in output
    assert_inert(output, shown=False)
