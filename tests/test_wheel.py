"""The wheel users get: built for real, installed apart from the source tree, run from elsewhere.

The editable install the other tests use reads the bundled personas and catalog from the checkout,
so a file missing from the wheel (``force-include``) would only show up for users. Not here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_built_wheel_runs_with_its_bundled_personas_and_catalog(tmp_path: Path) -> None:
    dist, site = tmp_path / "dist", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", dist, ROOT], check=True)
    (wheel,) = dist.glob("llm_tui-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", site, wheel], check=True)
    env = {**os.environ, "PYTHONPATH": str(site), "LLM_TUI_HOME": str(tmp_path / "home")}

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    where = subprocess.run(
        [sys.executable, "-c", "import tui; print(tui.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    ).stdout
    assert Path(where.strip()).is_relative_to(site)  # the wheel's copy, not the checkout
    paths = run("paths")
    assert str(site / "tui" / "_bundled" / "personas") in paths
    assert "almo" in run("personas", "list") and "no-system" in run("personas", "list")
    assert "smollm2-135m-instruct" in run("models", "list")
    assert run("--version").startswith("llm-tui ")
