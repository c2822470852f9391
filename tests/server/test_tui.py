"""The TUI over llama-server: the same chat, inspector, confidence and memoryless sessions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.server.llama_server import LlamaServer

SCRIPT = Path(__file__).with_name("tui_without_libllama.py")


def test_the_tui_chats_through_the_server_without_ever_loading_libllama(
    server: LlamaServer, llm_home: Path
) -> None:
    env = {**os.environ, "LLM_TUI_HOME": str(llm_home)}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), server.url], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["llama_cpp_loaded"] is False
    assert seen["device"] == f"llama-server 127.0.0.1:{server.port}"
    assert seen["inspector_shown"] is True and seen["reply"]
    assert seen["confidence_pieces"] > 0
    assert f"llama-server at 127.0.0.1:{server.port}" in " ".join(seen["notes"])
    assert f"on llama-server 127.0.0.1:{server.port}" in seen["title"]
    assert seen["switched_back"] is True and seen["token_branch_fed_exact_ids"] is True
    assert seen["token_branch_position"] == "3/3"
    assert seen["new_session_reused"] == 0  # the new session's first turn reused nothing
    saved = list((llm_home / "data" / "sessions").glob("*.json"))
    assert len(saved) == 2
    record = json.loads(saved[0].read_text())
    assert record["model"]["device"].startswith("llama-server")
