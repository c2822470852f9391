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


def _imports_of_tui() -> dict[str, set[str]]:
    """Every module of tui and the tui modules it imports: at the top, inside functions and under
    TYPE_CHECKING alike (a circle hidden in a function is still a circle of concepts)."""
    import ast

    root = Path(__file__).resolve().parents[2]
    modules = {}
    for path in (root / "tui").rglob("*.py"):
        name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def test_no_module_of_tui_imports_itself_back_through_others() -> None:
    graph = _imports_of_tui()
    assert len(graph) > 80 and "tui.ui.screens.chat" in graph["tui.ui.app"]  # the reader reads
    circles = []
    for start in graph:  # a path from a module's imports back to itself
        seen, todo = set(), list(graph[start])
        while todo:
            current = todo.pop()
            if current == start:
                circles.append(start)
                break
            if current not in seen:
                seen.add(current)
                todo.extend(graph[current])
    assert circles == [], f"modules in an import circle: {sorted(circles)}"
