"""Shared fixtures: a private LLM_TUI_HOME for every test, and the real embedded SmolLM2 model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.core.models.embedded import INSTALL_HINT, embedded_model_path


@pytest.fixture(autouse=True)
def llm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own home: nothing reads or writes the real config, data or cache."""
    home = tmp_path / "llm-tui-home"
    monkeypatch.setenv("LLM_TUI_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def model_path() -> Path:
    path = embedded_model_path()
    if path is None:
        pytest.fail(f"the embedded SmolLM2 model is required for the tests: {INSTALL_HINT}")
    return path


@pytest.fixture(scope="session")
def engine(model_path: Path) -> Iterator[object]:
    """One real engine shared by tests that only read from it (each resets it as it needs)."""
    from tui.core.engine.llama import Engine
    from tui.core.engine.values import LoadOptions

    loaded = Engine(model_path, LoadOptions(n_ctx=2048))
    yield loaded
    loaded.close()
