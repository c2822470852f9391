"""Bytes meant for the terminal never reach it from the TUI: read in the raw stream tmux receives.

A reply from a server, a persona's name and description, and the server's model name each carry
escape sequences (clear screen, reset, retitle, OSC 52 clipboard) and bidi overrides; the real
`llm-tui` runs in tmux with `pipe-pane` recording every byte it writes, and none of them is there.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile.peer import Behaviour, Peer
from tests.tmux import COMMAND, Tmux

pytestmark = pytest.mark.e2e

FORGED = {
    "reply": [
        "Fine",
        " \x1b]52;c;UkVQTFk=\x07",
        "\x1b]0;REPLY-TITLE\x07",
        "\x1bcR",
        "\x1b[2J",
        "\u202eevil",
        " words.",
    ],
    "persona": "\x1b]0;PERSONA-TITLE\x07Evil\u2066\x1b[2J",
    "description": "\x1b]52;c;UEVSU09OQQ==\x07described\u202e",
    "model": "/models/\x1b]0;MODEL-TITLE\x07stand\x1bcin.gguf",
}
NEVER = [
    b"\x1b]52;c;UkVQTFk",
    b"\x1b]52;c;UEVSU09OQQ",
    b"\x1b]0;REPLY-TITLE",
    b"\x1b]0;PERSONA-TITLE",
    b"\x1b]0;MODEL-TITLE",
    b"\x1bcR",
    b"\x1bcin",
    "\u202e".encode(),
    "\u2066".encode(),
]


@pytest.fixture
def peer() -> Iterator[Peer]:
    stand_in = Peer(Behaviour(reply=FORGED["reply"], props={"model_path": FORGED["model"]}))
    yield stand_in
    stand_in.close()


def toml_string(text: str) -> str:
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text) + '"'


def test_escapes_from_a_reply_a_persona_and_a_server_never_reach_the_terminal(
    tmux: Tmux, llm_home: Path, tmp_path: Path, peer: Peer
) -> None:
    personas = llm_home / "config" / "personas"
    personas.mkdir(parents=True)
    (personas / "evil.toml").write_text(
        f"name = {toml_string(FORGED['persona'])}\ndescription = {toml_string(FORGED['description'])}\n"
        'system = "You are terse."\n'
    )
    raw = tmp_path / "raw.bin"
    tmux("pipe-pane", "-o", "-t", "main", f"cat >> {shlex.quote(str(raw))}")
    command = f"{shlex.quote(str(COMMAND))} --server {peer.url} --persona evil"
    tmux("send-keys", "-t", "main", command, "Enter")
    tmux.wait_for(lambda s: "context 0/" in s)
    tmux("send-keys", "-t", "main", "-l", "Say something")
    tmux("send-keys", "-t", "main", "Enter")
    tmux.wait_for(lambda s: "words." in s)
    tmux("send-keys", "-t", "main", "F3")
    tmux.wait_for(lambda s: "described" in s)
    tmux("send-keys", "-t", "main", "Escape")
    tmux("send-keys", "-t", "main", "C-q")
    tmux.wait_for(lambda s: s.rstrip().endswith("$"), timeout=20)
    tmux("pipe-pane", "-t", "main")
    stream = raw.read_bytes()
    assert b"words." in stream and b"described" in stream  # the stream was recorded
    found = [marker for marker in NEVER if marker in stream]
    assert not found, f"raw terminal bytes reached the terminal: {found}"
