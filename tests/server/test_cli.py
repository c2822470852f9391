"""The commands over a server: info, probe, and `models path` to start a server with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.server.llama_server import LlamaServer


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LLM_TUI_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_info_and_probe_over_the_server(server: LlamaServer, llm_home: Path, model_path: Path) -> None:
    info = run(llm_home, "--server", server.url, "info")
    assert info.returncode == 0, info.stderr
    assert f"server: {server.url}" in info.stdout and f"server model: {model_path}" in info.stdout
    probe = run(llm_home, "--server", server.url, "probe", "--max-tokens", "8")
    assert probe.returncode == 0, probe.stderr
    assert "no system message" in probe.stdout.lower()


def test_models_path_prints_a_file_to_start_a_server_with(llm_home: Path, model_path: Path) -> None:
    done = run(llm_home, "models", "path", "smollm2-135m-instruct")
    assert done.returncode == 0 and done.stdout.strip() == str(model_path)
    missing = run(llm_home, "models", "path", "qwen2.5-0.5b-instruct")
    assert missing.returncode == 1 and "models pull qwen2.5-0.5b-instruct" in missing.stderr
    unknown = run(llm_home, "models", "path", "nope")
    assert unknown.returncode == 1 and "no model `nope`" in unknown.stderr
