"""The app's own settings file: default model and per-model load settings, never fatal when damaged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tui.core.engine.values import LoadOptions
from tui.core.models.catalog import load_catalog, resolve_model
from tui.core.settings.state import AppState, load_state, save_state, state_file
from tui.paths import get_paths
from tui.ui.app import AppConfig, load_engine


def test_per_model_settings_are_used_when_the_model_loads(model_path: Path) -> None:
    save_state(get_paths(), AppState(models={"smollm2-135m-instruct": {"n_ctx": 768, "n_threads": 1}}))
    engine = load_engine(AppConfig(model="smollm2-135m-instruct"))
    assert engine.info.n_ctx == 768 and engine.info.n_threads == 1  # type: ignore[attr-defined]
    engine.close()
    overridden = load_engine(AppConfig(model="smollm2-135m-instruct", load=LoadOptions(n_ctx=1024)))
    assert overridden.info.n_ctx == 1024  # the command line wins
    overridden.close()
    # the CLI loads through the same step, so it honours them too (it used to ignore them)
    done = subprocess.run(
        [sys.executable, "-m", "tui", "--model", "smollm2-135m-instruct", "info"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and "context: 768 of 8192 trained; threads: 1\n" in done.stdout, done.stdout


def test_the_default_model_falls_back_to_the_embedded_one_when_missing(model_path: Path) -> None:
    save_state(get_paths(), AppState(default_model="gemma-2-2b-it"))
    fallback = resolve_model(None, get_paths())
    assert fallback.path == model_path
    assert fallback.note and "gemma-2-2b-it" in fallback.note and "embedded" in fallback.note
    # ... and said, not silent: the real command warns on stderr and still answers
    done = subprocess.run(
        [sys.executable, "-m", "tui", "ask", "--max-tokens", "1", "hi"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "warning: the default model set in the model browser cannot be used" in done.stderr
    assert "gemma-2-2b-it" in done.stderr
    save_state(get_paths(), AppState(default_model="smollm2-135m-instruct"))
    chosen = resolve_model(None, get_paths())
    assert chosen.entry is not None and chosen.note is None


def test_a_damaged_state_file_is_reported_not_fatal() -> None:
    path = state_file(get_paths())
    path.parent.mkdir(parents=True)
    path.write_text("default_model = [unclosed")
    state = load_state(get_paths())
    assert state.default_model is None and state.problem and str(path) in str(state.problem)
    path.write_text('default_model = 5\n[models.x]\nn_ctx = "big"\nn_threads = 2\n')
    state = load_state(get_paths())
    assert state.default_model is None and state.models == {"x": {"n_threads": 2}}


def test_the_bundled_catalog_spans_sizes_vendors_and_template_families() -> None:
    entries = load_catalog(get_paths()).entries
    assert len(entries) >= 18
    repos = {e.repo.split("/")[0] for e in entries.values()}
    assert {"Qwen", "bartowski", "ggml-org", "allenai", "HuggingFaceTB", "TheBloke"} <= repos
    assert all(len(str(e.sha256)) == 64 and e.size > 0 for e in entries.values())
