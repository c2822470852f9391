"""Locations come from one place, nothing is created at import, the core never loads Textual."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.paths import bundled_catalog_file, bundled_personas_dir, get_paths

PACKAGE = Path(__file__).parents[2] / "tui"
CORE_MODULES = sorted(
    [
        "tui.paths",
        *(
            ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)
            for folder in ("core", "cli")
            for p in (PACKAGE / folder).rglob("*.py")
            if p.name != "__init__.py"
        ),
    ]
)
"""Every core module and the CLI's, found on disk so a new module cannot be missed."""


def test_llm_tui_home_moves_every_location(llm_home: Path) -> None:
    paths = get_paths()
    for name, path in paths.as_rows():
        if not name.startswith("bundled"):
            assert llm_home in path.parents, name


def test_platformdirs_without_the_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LLM_TUI_HOME")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    paths = get_paths()
    if sys.platform.startswith("linux"):
        assert paths.config == tmp_path / "xdg-config" / "llm-tui"
        assert paths.data == tmp_path / "xdg-data" / "llm-tui"


def test_bundled_defaults_are_found() -> None:
    assert bundled_catalog_file().is_file()
    assert bundled_personas_dir().is_dir()


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_imports_without_textual_and_creates_nothing(module: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "LLM_TUI_HOME": str(home)}
    code = (
        f"import sys, {module}; "
        "bad = [m for m in ('textual', 'rich') if m in sys.modules]; "
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not home.exists()
