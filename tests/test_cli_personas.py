"""`llm-tui personas …` and `--persona`, run as a user runs them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tui.paths import get_paths

SMOLLM_DEFAULT = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def llm_tui(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "LLM_TUI_HOME": str(home), **env}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=full_env, timeout=120
    )


def test_list_shows_the_bundled_set_and_broken_files_with_line_and_key(llm_home: Path) -> None:
    folder = get_paths().user_personas
    folder.mkdir(parents=True)
    (folder / "oops.toml").write_text('name = "Oops"\n\n[sampling]\ntemprature = 0.4\n')
    done = llm_tui("personas", "list", home=llm_home)
    assert done.returncode == 0
    for persona_id in ("no-system", "almo", "chatgpt-2024", "pirate"):
        assert f"\n{persona_id} " in f"\n{done.stdout}"
    assert "oops.toml:4: unknown key `temprature` in [sampling]; did you mean `temperature`?" in done.stdout


def test_show_new_and_validate(llm_home: Path) -> None:
    shown = llm_tui("personas", "show", "almo", home=llm_home)
    assert shown.stdout.startswith("# ") and "(bundled)" in shown.stdout and "Allen AI" in shown.stdout
    created = llm_tui("personas", "new", "my-tutor", home=llm_home)
    path = Path(created.stdout.strip())
    assert created.returncode == 0 and path == get_paths().user_personas / "my-tutor.toml"
    assert "# A persona for llm-tui" in path.read_text()
    again = llm_tui("personas", "new", "my-tutor", home=llm_home)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert llm_tui("personas", "validate", home=llm_home).returncode == 0
    path.write_text('name = "x"\nsystem = 5\n')
    bad = llm_tui("personas", "validate", str(path), home=llm_home)
    assert bad.returncode == 1 and "my-tutor.toml:2: `system` must be a string" in bad.stderr
    assert llm_tui("personas", "validate", home=llm_home).returncode == 1


def test_unsafe_ids_are_refused(llm_home: Path) -> None:
    for bad in ("../../x", "/etc/passwd"):
        done = llm_tui("personas", "new", bad, home=llm_home)
        assert done.returncode == 1 and "not a valid persona id" in done.stderr
    assert not (llm_home.parent / "x.toml").exists()


def test_edit_copies_a_bundled_persona_and_runs_the_editor(llm_home: Path, tmp_path: Path) -> None:
    editor = tmp_path / "fake-editor"
    editor.write_text('#!/bin/sh\nsed -i "s/Almo/Bilbo/" "$1"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    done = llm_tui("personas", "edit", "almo", home=llm_home, VISUAL=str(editor))
    assert done.returncode == 0, done.stderr
    user_copy = get_paths().user_personas / "almo.toml"
    assert "Bilbo" in user_copy.read_text() and "ok" in done.stdout
    prompt = llm_tui("prompt", "--persona", "almo", "Who are you?", home=llm_home)
    assert "You are Bilbo, a model developed by Allen AI." in prompt.stdout
    no_editor = llm_tui("personas", "edit", "almo", home=llm_home, VISUAL="", EDITOR="")
    assert no_editor.returncode == 1 and "set $VISUAL or $EDITOR" in no_editor.stderr


def test_persona_on_prompt_and_ask(llm_home: Path) -> None:
    almo = llm_tui("prompt", "--persona", "almo", "Who are you?", home=llm_home)
    assert "You are Almo, a model developed by Allen AI." in almo.stdout and "SmolLM" not in almo.stdout
    plain = llm_tui("--persona", "no-system", "prompt", "Who are you?", home=llm_home)
    assert SMOLLM_DEFAULT in plain.stdout
    override = llm_tui("prompt", "--persona", "almo", "--system", "You are Zed.", "hi", home=llm_home)
    assert "You are Zed." in override.stdout and "Almo" not in override.stdout
    asked = llm_tui(
        "ask", "--persona", "almo", "Who are you?", "--seed", "3", "--max-tokens", "20", home=llm_home
    )
    assert asked.returncode == 0 and asked.stdout.strip()
    unknown = llm_tui("prompt", "--persona", "nobody", "hi", home=llm_home)
    assert unknown.returncode == 1 and "no persona `nobody`" in unknown.stderr
