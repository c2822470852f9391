"""One model split across two machines' worth of llama.cpp: two `ggml-rpc-server` processes on
loopback and `llama-server --rpc A,B -ngl 99`, with llm-tui driving it in a real terminal (tmux)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.llama_server import LlamaServer, RpcServer
from tests.tmux import COMMAND, Tmux

ESTABLISHED = "01"


def connections_to(port: int) -> int:
    """Established TCP connections to ``port`` on loopback, from /proc/net/tcp (what `ss -tn` lists)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote, state = fields[2], fields[3]
        if state == ESTABLISHED and int(remote.split(":")[1], 16) == port:
            count += 1
    return count


@pytest.fixture
def split(model_path: Path, tmp_path: Path) -> Iterator[tuple[LlamaServer, list[RpcServer]]]:
    workers = [RpcServer(tmp_path / f"rpc{i}.log") for i in range(2)]
    try:
        rpc = ",".join(f"127.0.0.1:{w.port}" for w in workers)
        server = LlamaServer(model_path, tmp_path / "server.log", "--rpc", rpc, "-ngl", "99")
        try:
            yield server, workers
        finally:
            server.stop()
    finally:
        for worker in workers:
            worker.stop()


def test_a_model_split_over_two_rpc_servers_chats_in_the_tui(
    split: tuple[LlamaServer, list[RpcServer]], tmux: Tmux
) -> None:
    server, workers = split
    for worker in workers:
        assert connections_to(worker.port) >= 1, f"llama-server holds no connection to {worker.port}"
    tmux("send-keys", "-t", "main", f"{shlex.quote(str(COMMAND))} --server {server.url}", "Enter")
    tmux.wait_for(lambda s: f"llama-server 127.0.0.1:{server.port}" in s and "context 0/" in s)
    tmux("send-keys", "-t", "main", "F2")  # the inspector
    tmux("send-keys", "-t", "main", "F8")  # token confidence
    tmux("send-keys", "-t", "main", "-l", "Name three rivers")
    tmux("send-keys", "-t", "main", "Enter")
    screen = tmux.wait_for(lambda s: re.search(r"tok/s  ·  context [1-9]", s) is not None)  # status line
    assert "Name three rivers" in screen and "<|im_start|>" in screen  # the inspector shows the prompt
    tmux("send-keys", "-t", "main", "C-n")
    screen = tmux.wait_for(lambda s: "remembers nothing" in s)
    assert "Session #2 started" in screen
    tmux("send-keys", "-t", "main", "C-q")
    tmux.wait_for(lambda s: s.rstrip().endswith("$"), timeout=20)
    for worker in workers:
        assert "Accepted client connection" in worker.log.read_text()
