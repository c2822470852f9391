"""Offline means no network at all: proved in processes whose network really is gone.

Each command runs under ``unshare --net`` (a network namespace with no interfaces up; CI runs as
root) with a ``sitecustomize`` that records every attempt to resolve a name or connect anywhere but
loopback. Offline use must succeed there and record nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

LLM_TUI = str(Path(sys.executable).parent / "llm-tui")
Sandbox = tuple[list[str], dict[str, str], Path]
"""The command prefix (unshare), the environment, and the file where network attempts are noted."""

RECORDER = """
import os, socket
_log = os.environ["NETWORK_LOG"]
def _note(what):
    with open(_log, "a") as f:
        f.write(what + "\\n")
_connect = socket.socket.connect
def connect(self, address):
    host = address[0] if isinstance(address, tuple) else str(address)
    if self.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(("127.", "::1")):
        _note(f"connect {address}")
    return _connect(self, address)
socket.socket.connect = connect
_getaddrinfo = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    if host not in (None, "localhost", "127.0.0.1", "::1"):
        _note(f"resolve {host}")
    return _getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = getaddrinfo
"""


@pytest.fixture
def no_network(tmp_path: Path) -> Sandbox:
    if shutil.which("unshare") is None or subprocess.run(["unshare", "--net", "true"]).returncode != 0:
        pytest.fail("`unshare --net` is needed (util-linux, run as root as CI does)")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(RECORDER)
    log = tmp_path / "network.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "NETWORK_LOG": str(log),
        "LLM_TUI_HOME": str(tmp_path / "home"),
    }
    env.pop("HF_HUB_OFFLINE", None)
    return ["unshare", "--net"], env, log


def run(prefix: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, *args], capture_output=True, text=True, env=env, timeout=120)


def test_offline_commands_work_with_the_network_gone(
    no_network: Sandbox,
) -> None:
    prefix, env, log = no_network
    ask = run(prefix, env, LLM_TUI, "--offline", "ask", "Hi", "--max-tokens", "5", "--seed", "1")
    assert ask.returncode == 0 and ask.stdout.strip(), ask.stderr
    prompt = run(prefix, env, LLM_TUI, "--offline", "prompt", "Who are you?")
    assert prompt.returncode == 0 and "SmolLM" in prompt.stdout, prompt.stderr
    listing = run(prefix, env, LLM_TUI, "--offline", "models", "list")
    assert listing.returncode == 0 and "smollm2-135m-instruct" in listing.stdout
    pull = run(prefix, env, LLM_TUI, "--offline", "models", "pull", "qwen2.5-0.5b-instruct")
    assert pull.returncode == 1 and "offline" in pull.stderr and "Traceback" not in pull.stderr
    assert not log.exists(), log.read_text()


def test_the_recorder_itself_sees_an_attempt(no_network: Sandbox) -> None:
    """Without --offline, a pull tries the hub: the recorder notes it, so silence above means something."""
    prefix, env, log = no_network
    pull = run(prefix, env, LLM_TUI, "models", "pull", "qwen2.5-0.5b-instruct")
    assert pull.returncode == 1 and "Traceback" not in pull.stderr
    assert log.exists() and "huggingface.co" in log.read_text()


def test_the_tui_starts_and_loads_offline(no_network: Sandbox) -> None:
    prefix, env, log = no_network
    script = textwrap.dedent(
        """
        import asyncio, os, sys
        os.environ["HF_HUB_OFFLINE"] = "1"
        from tui.ui.app import AppConfig, create_app

        async def main() -> int:
            app = create_app(AppConfig())
            async with app.run_test(size=(100, 30)) as pilot:
                for _ in range(600):
                    chat = app.screen_stack[1]
                    if getattr(chat, "chat", None) is not None:
                        return 0
                    await pilot.pause(0.05)
            return 1

        sys.exit(asyncio.run(main()))
        """
    )
    done = run(prefix, env, sys.executable, "-c", script)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not log.exists(), log.read_text()
