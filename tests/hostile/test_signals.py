"""Ending the app from outside, mid-reply, with a server that does not help: ctrl+q, SIGTERM, a
closed terminal (SIGHUP) and a terminal that just goes dead each end it within 2 s, with the turn
saved as far as it came, marked stopped; a signal's exit status says it was one (128 + N)."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.hostile.peer import Behaviour, Peer
from tests.hostile.pty_app import PtyApp
from tui.paths import get_paths

pytestmark = pytest.mark.e2e

ENDS: dict[str, tuple[Callable[[PtyApp], None], int, bool]] = {
    "ctrl+q": (lambda app: app.type("\x11"), 0, True),
    "SIGTERM": (lambda app: app.signal(signal.SIGTERM), 128 + signal.SIGTERM, True),
    "terminal closed (SIGHUP)": (lambda app: app.close_terminal(), 128 + signal.SIGHUP, True),
    "terminal gone without a SIGHUP": (lambda app: app.close_terminal(), 128 + signal.SIGHUP, False),
}


@pytest.fixture(params=["drips", "silent"])
def peer(request: pytest.FixtureRequest) -> Iterator[Peer]:
    if request.param == "drips":
        behaviour = Behaviour(reply=["slowly "], delay=0.3, endless=True)
    else:
        behaviour = Behaviour(silent_completion=True)
    stand_in = Peer(behaviour)
    yield stand_in
    stand_in.close()


def saved_turns() -> list[dict[str, object]]:
    folder = get_paths().sessions
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return [turn for path in files for turn in json.loads(path.read_text())["turns"]]


@pytest.mark.parametrize("end", list(ENDS))
def test_ending_from_outside_mid_reply_saves_the_turn_and_exits_within_2_s(
    llm_home: Path, peer: Peer, end: str
) -> None:
    how, status, controlling = ENDS[end]
    app = PtyApp(llm_home, "--server", peer.url, controlling=controlling)
    app.wait_for_output("context 0/")
    app.type("tell me about the sea")
    app.wait_for_output("tell me about the sea")  # in the box: the key that sends it is not lost
    app.type("\r")
    deadline = time.monotonic() + 30
    while peer.behaviour.completions == 0:
        assert time.monotonic() < deadline, "the message never reached the server"
        time.sleep(0.05)
    if not peer.behaviour.silent_completion:
        app.wait_for_output("slowly")
    time.sleep(0.5)
    how(app)
    assert app.ended_within(2.0) == status
    (turn,) = saved_turns()
    assert turn["user"] == "tell me about the sea" and turn["stop"] == "cancelled"
    reply = str(turn["reply"])
    assert reply.startswith("slowly ") if not peer.behaviour.silent_completion else reply == ""


def test_a_message_typed_while_connecting_is_given_back_at_exit(llm_home: Path) -> None:
    """The server never answers /props: ctrl+q still ends the app at once, and the message typed
    meanwhile is printed, not lost."""
    stand_in = Peer(Behaviour(silent_props=True))
    try:
        app = PtyApp(llm_home, "--server", stand_in.url)
        app.wait_for_output("Message the model")
        app.type("typed while it connects")
        app.wait_for_output("typed while it connects")
        app.type("\r")
        time.sleep(1.0)
        app.type("\x11")
        assert app.ended_within(2.0) == 0
        app.wait_for_output("not sent (no model had loaded yet), your message: typed while it connects", 5)
    finally:
        stand_in.close()
