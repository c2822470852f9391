"""`llm-tui models …` against a local hub-compatible server, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hubserver import COMMIT, FakeHub, serve
from tui.core.models.catalog import load_catalog
from tui.paths import get_paths

REPO = "test-org/Tiny-GGUF"


@pytest.fixture
def fake_hub(model_path: Path) -> Iterator[FakeHub]:
    server = FakeHub()
    for name in (
        "tiny-Q4_K_M.gguf",
        "tiny-Q8_0.gguf",
        "tiny-Q5_K_M-00001-of-00002.gguf",
        "tiny-Q5_K_M-00002-of-00002.gguf",
    ):
        server.host(REPO, name, model_path)
    server.host("test-org/Ambiguous-GGUF", "a-Q4_K_M.gguf", model_path)
    server.host("test-org/Ambiguous-GGUF", "b-Q4_K_M.gguf", model_path)
    with serve(server) as running:
        yield running


def llm_tui(
    *args: str, home: Path, hub: FakeHub | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_TOKEN")}
    full.update(LLM_TUI_HOME=str(home), **env)
    if hub is not None:
        full["HF_ENDPOINT"] = hub.url
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=full, timeout=120
    )


def test_list_shows_the_catalog(llm_home: Path) -> None:
    done = llm_tui("models", "list", home=llm_home)
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["ID", "PARAMS", "QUANT", "SIZE", "FITS", "ON", "DISK", "THINKS"]
    smol = next(line for line in lines if line.startswith("smollm2-135m-instruct "))
    assert "98.4 MB" in smol and smol.rstrip().endswith("embedded")
    assert any(line.startswith("qwen2.5-0.5b-instruct ") and line.rstrip().endswith("no") for line in lines)
    thinkers = {line.split()[0] for line in lines if line.rstrip().endswith(" yes") and " no " in line + " "}
    assert {"qwen3-0.6b", "smollm3-3b", "gpt-oss-20b", "deepseek-r1-0528-qwen3-8b"} <= thinkers
    assert "qwen3-4b-instruct-2507" not in thinkers


def test_add_picks_the_quant_then_pull_rm_and_info(llm_home: Path, fake_hub: FakeHub) -> None:
    added = llm_tui("models", "add", REPO, home=llm_home, hub=fake_hub)
    assert added.returncode == 0, added.stderr
    assert "added tiny-q4_k_m" in added.stdout
    entry = load_catalog(get_paths()).entries["tiny-q4_k_m"]
    hosted = fake_hub.repos[REPO]["tiny-Q4_K_M.gguf"]
    assert (entry.size, entry.sha256, entry.revision) == (
        hosted.size,
        hosted.sha256,
        COMMIT,
    )
    assert entry.origin == "user"

    pulled = llm_tui("models", "pull", "tiny-q4_k_m", home=llm_home, hub=fake_hub)
    assert pulled.returncode == 0, pulled.stderr
    progress = [line for line in pulled.stderr.splitlines() if "%" in line]
    assert progress and "100.0%" in progress[-1] and "B/s" in progress[-1] and "ETA" in progress[-1]
    assert "downloaded and verified" in pulled.stderr
    listed = llm_tui("models", "list", home=llm_home)
    assert any(
        line.startswith("tiny-q4_k_m ") and line.rstrip().endswith("yes")
        for line in listed.stdout.splitlines()
    )
    info = llm_tui("models", "info", "tiny-q4_k_m", home=llm_home)
    assert "architecture: llama" in info.stdout and "bos token: 1 '<|im_start|>'" in info.stdout
    asked = llm_tui(
        "--offline", "ask", "Hi", "--model", "tiny-q4_k_m", "--max-tokens", "5", "--seed", "1", home=llm_home
    )
    assert asked.returncode == 0 and asked.stdout.strip()

    removed = llm_tui("models", "rm", "tiny-q4_k_m", "--yes", home=llm_home)
    assert removed.returncode == 0 and "deleted" in removed.stdout
    assert not entry.local_path(get_paths()).exists()
    refuse = llm_tui("models", "rm", "tiny-q4_k_m", home=llm_home)
    assert refuse.returncode == 1 and "not on this machine" in refuse.stderr


def test_add_explains_what_it_cannot_choose(llm_home: Path, fake_hub: FakeHub) -> None:
    missing = llm_tui("models", "add", REPO, "--quant", "Q2_K", home=llm_home, hub=fake_hub)
    assert missing.returncode == 1 and "no Q2_K file" in missing.stderr and "tiny-Q8_0.gguf" in missing.stderr
    split = llm_tui("models", "add", REPO, "--quant", "Q5_K_M", home=llm_home, hub=fake_hub)
    assert split.returncode == 1 and "split into 2 parts" in split.stderr
    ambiguous = llm_tui("models", "add", "test-org/Ambiguous-GGUF", home=llm_home, hub=fake_hub)
    assert ambiguous.returncode == 1 and "matches several files" in ambiguous.stderr
    exact = llm_tui(
        "models", "add", "test-org/Ambiguous-GGUF", "--file", "b-Q4_K_M.gguf", home=llm_home, hub=fake_hub
    )
    assert exact.returncode == 0
    nothing = llm_tui("models", "add", "nobody/nothing", home=llm_home, hub=fake_hub)
    assert nothing.returncode == 1 and "repository nobody/nothing not found" in nothing.stderr
    assert nothing.stderr.count("\n") == 1


def test_offline_and_unreachable_hubs_are_one_line_errors(llm_home: Path) -> None:
    offline = llm_tui("--offline", "models", "pull", "qwen2.5-0.5b-instruct", home=llm_home)
    assert offline.returncode == 1 and "offline mode" in offline.stderr
    env_offline = llm_tui("models", "pull", "qwen2.5-0.5b-instruct", home=llm_home, HF_HUB_OFFLINE="1")
    assert env_offline.returncode == 1 and "offline mode" in env_offline.stderr
    unreachable = llm_tui(
        "models", "pull", "qwen2.5-0.5b-instruct", home=llm_home, HF_ENDPOINT="http://127.0.0.1:9"
    )
    assert unreachable.returncode == 1 and "cannot reach http://127.0.0.1:9" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
