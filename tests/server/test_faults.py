"""What goes wrong with a server is one clear line, nothing hangs, and the next turn recovers."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.llama_server import ROOT, LlamaServer, free_port
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.core.engine.server import ServerEngine, ServerModelChanged
from tui.core.engine.server_api import ServerError
from tui.core.engine.values import Piece, ReplyStats
from tui.core.prompt.messages import Message
from tui.core.settings.server import ServerSettings


def run(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "LLM_TUI_HOME": str(home), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=full, timeout=60
    )


def test_nothing_listening(llm_home: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = run(llm_home, "--server", url, "prompt", "hi")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert (
        done.stderr.startswith("llm-tui: error: cannot connect to") and "llama-server running" in done.stderr
    )


@pytest.fixture
def not_llama(tmp_path: Path) -> Iterator[str]:
    """Some other web server: every path is a 404."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_server_that_is_not_llama_server(llm_home: Path, not_llama: str) -> None:
    done = run(llm_home, "--server", not_llama, "ask", "hi")
    assert done.returncode == 1 and "does not look like llama.cpp's llama-server" in done.stderr


@pytest.fixture
def silent() -> Iterator[str]:
    """Accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_a_server_that_never_answers_times_out_with_a_clear_message(silent: str) -> None:
    started = time.monotonic()
    with pytest.raises(ServerError, match=r"nothing from the server for 1 s \(idle timeout\)"):
        ServerEngine(ServerSettings(silent, idle_timeout=1))
    assert time.monotonic() - started < 10


def test_bad_urls_and_flags_the_server_owns(llm_home: Path, server: LlamaServer) -> None:
    done = run(llm_home, "--server", "gpu-box:8080", "prompt", "hi")
    assert done.returncode == 1 and "not a server URL" in done.stderr
    done = run(llm_home, "--server", server.url, "prompt", "hi", "--ctx", "512")
    assert done.returncode == 1 and "--ctx cannot be used with a server" in done.stderr
    done = run(llm_home, "prompt", "hi", env={"LLM_TUI_SERVER": server.url})
    assert done.returncode == 0 and "the server's chat template" in done.stderr
    done = run(llm_home, "--offline", "--server", "http://192.0.2.1:8080", "prompt", "hi")
    assert done.returncode == 1 and "--offline" in done.stderr


def test_config_toml_names_the_server_and_a_bad_key_is_reported(llm_home: Path, server: LlamaServer) -> None:
    config = llm_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[server]\nurl = "{server.url}"\nidle_timeout = -3\n')
    done = run(llm_home, "prompt", "hi")
    assert done.returncode == 0, done.stderr
    assert "config.toml" in done.stderr and "idle_timeout" in done.stderr and "above 0" in done.stderr


def test_api_key_missing_wrong_and_right(model_path: Path, tmp_path: Path, llm_home: Path) -> None:
    secured = LlamaServer(model_path, tmp_path / "key.log", "--api-key", "sesame-123")
    try:
        missing = run(llm_home, "--server", secured.url, "prompt", "hi", env={"LLAMA_API_KEY": ""})
        assert missing.returncode == 1 and "401" in missing.stderr and "set $LLAMA_API_KEY" in missing.stderr
        wrong = run(llm_home, "--server", secured.url, "prompt", "hi", env={"LLAMA_API_KEY": "nope"})
        assert wrong.returncode == 1 and "was refused" in wrong.stderr
        right = run(
            llm_home,
            "--server",
            secured.url,
            "ask",
            "hi",
            "--max-tokens",
            "4",
            env={"LLAMA_API_KEY": "sesame-123"},
        )
        assert right.returncode == 0, right.stderr
        assert "sesame" not in right.stdout + right.stderr
    finally:
        secured.stop()


def test_cancel_hangs_up_and_the_slot_goes_idle(server: LlamaServer) -> None:
    engine = ServerEngine(ServerSettings(server.url))
    cancel = threading.Event()
    prompt = engine.build_prompt([Message("user", "Write a very long story about a dragon.")])
    seen = 0
    for event in engine.generate(prompt, Sampling(seed=1, max_tokens=1500), cancel):
        if isinstance(event, Piece):
            seen += 1
            if seen == 5:
                cancel.set()
        else:
            assert event.stop == "cancelled" and event.completion_tokens == 5
    deadline = time.monotonic() + 5
    while any(slot.get("is_processing") for slot in server.slots()):
        assert time.monotonic() < deadline, "the server went on generating after the hang-up"
        time.sleep(0.05)
    engine.close()


def test_a_server_killed_mid_reply_keeps_the_partial_reply_and_the_next_turn_reconnects(
    model_path: Path, tmp_path: Path
) -> None:
    first = LlamaServer(model_path, tmp_path / "a.log")
    settings = ServerSettings(first.url)
    engine = ServerEngine(settings)
    chat = Chat(engine, None, Sampling(seed=1, max_tokens=1500))
    received = []
    with pytest.raises(ServerError, match="closed the connection"):
        for event in chat.send("Write a very long story about a dragon."):
            if isinstance(event, Piece):
                received.append(event.text)
                if len(received) == 10:
                    first.kill()
    assert chat.session.turns[-1].reply == "".join(received) and chat.session.turns[-1].stats is None
    restarted = LlamaServer(model_path, tmp_path / "b.log", port=first.port)  # the same port, as a restart
    try:
        events = list(chat.send("And then?"))
        assert isinstance(events[-1], ReplyStats) and events[-1].completion_tokens > 0
    finally:
        restarted.stop()
        engine.close()


def retemplated(model: Path, out: Path, template: str) -> None:
    """A copy of ``model`` with another chat template, made with llama.cpp's own gguf-new-metadata
    (gguf-py from the llama-cpp-python sdist that `make llama-src` fetches)."""
    gguf_py = ROOT / ".venv" / "llama-sdist" / "gguf-py"
    subprocess.run(
        [sys.executable, "-m", "gguf.scripts.gguf_new_metadata", "--chat-template", template, "--force",
         str(model), str(out)],
        check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(gguf_py)}, timeout=120,
    )  # fmt: skip


def test_a_server_restarted_with_another_model_is_noticed_before_anything_is_sent(
    model_path: Path, tmp_path: Path
) -> None:
    """The same file name, another template inside: /props tells them apart, not the path alone."""
    served = tmp_path / "model.gguf"
    shutil.copyfile(model_path, served)
    first = LlamaServer(served, tmp_path / "a.log")
    engine = ServerEngine(ServerSettings(first.url))
    prompt = engine.build_prompt([Message("user", "hi")])
    first.stop()
    retemplated(
        model_path, served, "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
    )
    second = LlamaServer(served, tmp_path / "b.log", port=first.port)
    try:
        assert engine.api.get("/props")["model_path"] == str(served)  # the same path as before
        with pytest.raises(ServerModelChanged, match=r"now runs another model \(model.gguf\)"):
            list(engine.generate(prompt, Sampling(seed=1, max_tokens=4)))
        assert not any(slot.get("is_processing") for slot in second.slots())
        assert all(slot.get("n_prompt_tokens_processed", 0) == 0 for slot in second.slots())  # nothing sent
    finally:
        second.stop()
        engine.close()
