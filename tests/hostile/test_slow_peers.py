"""A server that is slow, silent, endless or wrong: stopping never waits for it, and nothing it says
is trusted (the real command against `tests/hostile/peer.py`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.hostile.peer import Peer
from tests.ui.helpers import ready, wait_until
from tui.core.chat import export, transcripts
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.core.engine.server import ServerEngine
from tui.core.engine.values import ContextFullError, Piece, ReplyStats
from tui.core.prompt.messages import Message
from tui.core.settings.server import ServerSettings
from tui.paths import get_paths
from tui.ui.app import AppConfig, create_app
from tui.ui.screens.chat import ChatScreen
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.message_views import Reply

RSS = (
    "import runpy, sys\n"
    "try:\n"
    "    runpy.run_module('tui', run_name='__main__')\n"
    "finally:\n"
    "    peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
    "    print('maxrss', peak, file=sys.stderr)\n"
)
"""Runs llm-tui and reports its own peak memory (KiB) as its last line on stderr (VmHWM: the
rusage peak would include the forked test process's own pages from before the exec)."""


@pytest.fixture
def peer() -> Iterator[Peer]:
    stand_in = Peer()
    yield stand_in
    stand_in.close()


def ask(home: Path, peer: Peer, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LLM_TUI_HOME": str(home), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-c", RSS, "--server", peer.url, "ask", *args],
        capture_output=True, text=True, env=env, timeout=timeout,
    )  # fmt: skip


def peak_mib(done: subprocess.CompletedProcess[str]) -> float:
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("maxrss ")
    return int(line.split()[1]) / 1024


def test_our_own_token_limit_holds_against_a_server_that_never_stops(llm_home: Path, peer: Peer) -> None:
    peer.behaviour.reply, peer.behaviour.endless = ["w "], True
    done = ask(llm_home, peer, "hi", "--max-tokens", "20")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("w") == 20
    assert "stop: max_tokens" in done.stderr


@pytest.mark.parametrize("tokens", [["x"], [-5], [1 << 40], [True], [1.5]])
def test_token_ids_that_are_not_token_ids_are_refused_in_one_line(
    llm_home: Path, peer: Peer, tokens: list[object]
) -> None:
    peer.behaviour.tokens = tokens
    done = ask(llm_home, peer, "hi")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "is not a token id" in done.stderr


def test_a_lone_surrogate_in_a_reply_is_shown_as_a_replacement_character(llm_home: Path, peer: Peer) -> None:
    peer.behaviour.reply = ["bad \ud800 char", " and on."]
    done = ask(llm_home, peer, "hi")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("bad \ufffd char and on.")


@pytest.mark.parametrize("n_ctx", [0, -1, 1 << 40, "4096", None])
def test_a_context_size_out_of_range_is_refused(llm_home: Path, peer: Peer, n_ctx: object) -> None:
    peer.behaviour.props = {"default_generation_settings": {"n_ctx": n_ctx}}
    done = ask(llm_home, peer, "hi")
    assert done.returncode == 1 and "no usable context size" in done.stderr


def test_a_huge_props_answer_is_refused_before_it_is_in_memory(llm_home: Path, peer: Peer) -> None:
    peer.behaviour.props_padding = 200 * 1024 * 1024
    done = ask(llm_home, peer, "hi", timeout=60)
    assert done.returncode == 1 and "larger than" in done.stderr
    assert peak_mib(done) < 150, done.stderr  # reading it whole took more than 400 MiB


def test_a_redirect_and_a_web_page_say_what_they_are(llm_home: Path, peer: Peer) -> None:
    peer.behaviour.redirect = "http://elsewhere.example/props"
    done = ask(llm_home, peer, "hi")
    assert done.returncode == 1 and "redirected to 'http://elsewhere.example/props'" in done.stderr
    peer.behaviour.redirect = ""
    peer.behaviour.props_answer = b"<!doctype html><html><body>Welcome to nginx</body></html>"
    done = ask(llm_home, peer, "hi")
    assert done.returncode == 1 and "is a web page, not llama-server's JSON" in done.stderr


def stop_after(peer: Peer, wait: float) -> tuple[list[Piece | ReplyStats], float]:
    """Stream a reply in a thread, stop it ``wait`` s later; what came, and how long the stop took."""
    engine = ServerEngine(ServerSettings(peer.url, idle_timeout=600))
    prompt = engine.build_prompt([Message("user", "hi")])
    cancel = threading.Event()
    got: list[Piece | ReplyStats] = []
    worker = threading.Thread(target=lambda: got.extend(engine.generate(prompt, Sampling(seed=1), cancel)))
    worker.start()
    time.sleep(wait)
    cancel.set()
    stopped = time.monotonic()
    worker.join(10)
    took = time.monotonic() - stopped
    engine.close()
    return got, took


def test_stopping_does_not_wait_for_a_server_that_never_answers(peer: Peer) -> None:
    peer.behaviour.silent_completion = True
    got, took = stop_after(peer, 0.5)
    assert took < 1.0
    assert isinstance(got[-1], ReplyStats) and got[-1].stop == "cancelled"


def test_stopping_does_not_wait_for_a_server_that_drips(peer: Peer) -> None:
    peer.behaviour.reply, peer.behaviour.delay, peer.behaviour.endless = ["slow "], 5.0, True
    got, took = stop_after(peer, 1.0)
    assert took < 1.0
    assert [p.text for p in got if isinstance(p, Piece)] == ["slow "]
    assert isinstance(got[-1], ReplyStats) and got[-1].stop == "cancelled"
    assert peer.behaviour.hung_up.wait(10)  # the server saw us hang up


async def test_escape_stops_a_reply_from_a_silent_server_within_1_s(peer: Peer) -> None:
    peer.behaviour.silent_completion = True
    app = create_app(AppConfig(server=ServerSettings(peer.url, idle_timeout=600)))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        chat.query_one(ChatInput).insert("hello?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: peer.behaviour.completions == 1 and chat.busy)
        started = time.monotonic()
        await pilot.press("escape")
        await wait_until(pilot, lambda: not chat.busy, timeout=10)
        assert time.monotonic() - started < 1.0


async def test_text_already_received_is_shown_while_the_server_is_slow(peer: Peer) -> None:
    """The first words arrive at once, the next after 20 s: the first are on screen meanwhile."""
    peer.behaviour.reply, peer.behaviour.delay = ["The first words.", " Then more."], 20.0
    app = create_app(AppConfig(server=ServerSettings(peer.url, idle_timeout=600)))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        chat.query_one(ChatInput).insert("hello?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: peer.behaviour.completions == 1)
        await wait_until(
            pilot, lambda: any("The first words." in r.text for r in chat.query(Reply)), timeout=3
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: not chat.busy, timeout=10)


def saved_sessions() -> list[dict[str, Any]]:
    folder = get_paths().sessions
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


async def send(pilot: Pilot[None], chat: ChatScreen, text: str) -> None:
    chat.query_one(ChatInput).insert(text)
    await pilot.press("enter")


async def test_a_message_that_got_no_reply_is_saved_with_why(peer: Peer) -> None:
    peer.behaviour.completion_status = 500
    app = create_app(AppConfig(server=ServerSettings(peer.url)))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "are you there?")
        await wait_until(pilot, lambda: bool(saved_sessions()) and not chat.busy)
    (session,) = saved_sessions()
    (unanswered,) = session["unanswered"]
    assert unanswered["user"] == "are you there?" and "HTTP 500" in unanswered["why"]
    assert session["turns"] == []
    shown = export.to_markdown(transcripts.parse(session))
    assert "are you there?" in shown and "No reply:" in shown


async def test_a_reply_cut_by_a_server_gone_is_saved_as_cut(peer: Peer) -> None:
    peer.behaviour.reply, peer.behaviour.endless, peer.behaviour.cut_after = ["half "], True, 3
    app = create_app(AppConfig(server=ServerSettings(peer.url)))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "tell me")
        await wait_until(pilot, lambda: bool(saved_sessions()) and not chat.busy)
    (turn,) = saved_sessions()[0]["turns"]
    assert turn["reply"] == "half half half " and turn["error"]
    assert "broke off:" in export.to_markdown(transcripts.parse(saved_sessions()[0]))


async def test_a_model_change_gives_the_message_back(peer: Peer) -> None:
    app = create_app(AppConfig(server=ServerSettings(peer.url)))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        first = chat.chat
        peer.behaviour.props = {"model_path": "/models/another.gguf"}
        await send(pilot, chat, "still you?")
        await wait_until(pilot, lambda: chat.chat is not None and chat.chat is not first)
        assert chat.query_one(ChatInput).text == "still you?"
        assert peer.behaviour.completions == 0
    old = next(s for s in saved_sessions() if s["unanswered"])
    assert old["unanswered"][0]["user"] == "still you?" and "another model" in old["unanswered"][0]["why"]


def test_a_huge_paste_is_said_to_be_too_long_for_the_context(peer: Peer) -> None:
    engine = ServerEngine(ServerSettings(peer.url))
    chat = Chat(engine, None, Sampling())
    with pytest.raises(ContextFullError, match=r"your message is 200,000 tokens: .* context of 4,096 tokens"):
        chat.prepare("word " * 40_000)
    with pytest.raises(ContextFullError, match=r"your message is 2,000,000 characters"):
        chat.prepare("x" * 2_000_000)
    engine.close()


async def test_a_lone_surrogate_does_not_wedge_the_tui(peer: Peer) -> None:
    """The reply is shown (the bad character replaced), saved, and the next message goes out."""
    peer.behaviour.reply = ["bad \ud800 char", " and on."]
    app = create_app(AppConfig(server=ServerSettings(peer.url)))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        await send(pilot, chat, "first")
        await wait_until(pilot, lambda: peer.behaviour.completions == 1 and not chat.busy)
        assert any("bad \ufffd char and on." in r.text for r in chat.query(Reply))
        await send(pilot, chat, "second")
        await wait_until(pilot, lambda: peer.behaviour.completions == 2 and not chat.busy)
    (session,) = saved_sessions()
    assert [t["reply"] for t in session["turns"]] == ["bad \ufffd char and on."] * 2


def test_info_over_a_server_reports_the_servers_build_not_this_machines(llm_home: Path, peer: Peer) -> None:
    env = {**os.environ, "LLM_TUI_HOME": str(llm_home)}
    command = [sys.executable, "-m", "tui", "--server", peer.url, "info"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "llama-cpp-python" not in done.stdout and "default model" not in done.stdout
    assert f"server: {peer.url}, build b9999-standin" in done.stdout
    peer.behaviour.props = {"build_info": "b0-unknown"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert "build b0-unknown (built without version information" in done.stdout


async def test_the_model_browser_says_at_once_that_the_server_chooses(peer: Peer) -> None:
    app = create_app(AppConfig(server=ServerSettings(peer.url)))
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot, app)
        browser = app.model_browser()
        await app.push_screen(browser)
        await pilot.pause()
        said = str(browser.query_one("#models-problems").render())
        assert f"llama-server at {peer.url} runs" in said
