"""llama.cpp's own programs, started for real on loopback: `llama-server` and `ggml-rpc-server`.

They are built by `make llama-tools` from the llama.cpp sources of the installed llama-cpp-python
(`make test` does it first), so the server runs the same llama.cpp as the in-process engine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "llama-build" / "bin"
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    return {**os.environ, "LD_LIBRARY_PATH": str(BIN)}


def _program(name: str) -> str:
    path = BIN / name
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: run `make llama-tools` (make test does it)")
    return str(path)


class LlamaServer:
    """One llama-server process on a free loopback port, with the in-process engine's numerics by
    default: llama.cpp's defaults on both sides (flash attention auto), one slot (several share a
    unified KV cache: see ../shared/server-facts.md)."""

    def __init__(self, model: Path, log: Path, *extra: str, ctx: int = 2048, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        args = [_program("llama-server"), "-m", str(model), "--host", "127.0.0.1", "--port", str(self.port)]
        args += ["-np", "1", "-c", str(ctx), "-t", "2", *extra]
        with log.open("ab") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=_env())
        self._wait_ready(extra)

    def _wait_ready(self, extra: tuple[str, ...]) -> None:
        deadline = time.monotonic() + START_SECONDS
        headers = (
            {"Authorization": f"Bearer {extra[extra.index('--api-key') + 1]}"} if "--api-key" in extra else {}
        )
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx2.get(f"{self.url}/health", headers=headers, timeout=1).status_code == 200:
                    return
            except httpx2.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"llama-server did not start in {START_SECONDS} s: {self.log.read_text()[-2000:]}")

    def slots(self) -> list[dict[str, object]]:
        answer = httpx2.get(f"{self.url}/slots", timeout=5).json()
        assert isinstance(answer, list)
        return answer

    def kill(self) -> None:
        """As a crash would: no goodbye to the clients."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class RpcServer:
    """One `ggml-rpc-server`: a machine's devices offered to a llama-server over TCP."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        args = [_program("ggml-rpc-server"), "-H", "127.0.0.1", "-p", str(self.port)]
        with log.open("ab") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=_env())
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"ggml-rpc-server did not listen: {log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
