"""Each error names what is really wrong and where it came from, never something the user did not
give (the real command): a file's own context length, a template that renders nothing, a persona's
model, a template key that hides the language's own, a FIFO or folder as --model, an ambiguous
session id, a multi-line raise_exception, duplicate catalog ids, an empty --model, a deep tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile.gguf_craft import kv_u32, with_keys, with_template
from tests.ui.helpers import FakeEngine
from tui.core.chat import export, transcripts
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.paths import get_paths


def llm_tui(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LLM_TUI_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env, timeout=120
    )


def error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("llm-tui: error:")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_a_files_own_context_length_is_blamed_not_ctx(
    llm_home: Path, model_path: Path, tmp_path: Path
) -> None:
    model = with_keys(
        model_path, tmp_path / "short.gguf", {"llama.context_length": kv_u32("llama.context_length", 8)}
    )
    said = error_line(llm_tui(llm_home, "ask", "--model", str(model), "hi"))
    assert "llama.context_length (8)" in said and str(model) in said and "give one with --ctx" in said


def test_a_template_that_renders_nothing(llm_home: Path, model_path: Path, tmp_path: Path) -> None:
    model = with_template(model_path, tmp_path / "silent.gguf", "{# nothing #}")
    said = error_line(llm_tui(llm_home, "ask", "--model", str(model), "hi"))
    assert "rendered nothing" in said and "could not decode" not in said


def test_a_multi_line_refusal_stays_one_line(llm_home: Path, model_path: Path, tmp_path: Path) -> None:
    model = with_template(
        model_path, tmp_path / "loud.gguf", "{{ raise_exception('no\\nllm-tui: error: forged line') }}"
    )
    done = llm_tui(llm_home, "prompt", "--model", str(model), "hi")
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_personas_missing_model_names_the_persona_file(llm_home: Path) -> None:
    personas = get_paths().user_personas
    personas.mkdir(parents=True)
    (personas / "picky.toml").write_text('name = "Picky"\nsystem = "Hi."\nmodel = "no-such-model"\n')
    said = error_line(llm_tui(llm_home, "ask", "--persona", "picky", "hi"))
    assert str(personas / "picky.toml") in said and "model = 'no-such-model'" in said


def test_a_template_key_that_hides_the_languages_own_is_refused(llm_home: Path) -> None:
    personas = get_paths().user_personas
    personas.mkdir(parents=True)
    (personas / "ranged.toml").write_text('name = "R"\nsystem = "Hi."\n[template]\nrange = "x"\n')
    done = llm_tui(llm_home, "personas", "validate")
    assert (
        done.returncode == 1 and "would hide the template language's own `range`" in done.stdout + done.stderr
    )


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_a_model_path_that_is_not_a_file_says_what_it_is(llm_home: Path, tmp_path: Path, kind: str) -> None:
    target = {"folder": tmp_path / "dir.gguf", "fifo": tmp_path / "pipe.gguf", "device": Path("/dev/null")}[
        kind
    ]
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    said = error_line(llm_tui(llm_home, "ask", "--model", str(target), "hi"))
    assert f"is a {kind if kind != 'fifo' else 'FIFO'}" in said


def test_an_empty_model_is_refused_not_the_default(llm_home: Path) -> None:
    done = llm_tui(llm_home, "prompt", "--model", "", "hi")
    assert done.returncode == 2 and "--model/-m: empty" in done.stderr


def saved_session(n: int = 1) -> list[Path]:
    made = []
    for _ in range(n):
        engine = FakeEngine()
        chat = Chat(engine, None, Sampling(max_tokens=4, seed=1))
        list(chat.send("hello"))
        path = transcripts.save(get_paths(), chat.session, engine.info, None)
        assert path is not None
        made.append(path)
    return made


def test_an_ambiguous_session_prefix_says_so(llm_home: Path) -> None:
    first, second = saved_session(2)
    common = os.path.commonprefix([first.stem, second.stem])
    said = error_line(llm_tui(llm_home, "sessions", "show", common[:8]))
    assert "matches 2 saved sessions" in said


def test_duplicate_catalog_ids_are_said(llm_home: Path) -> None:
    catalog = get_paths().user_catalog
    catalog.parent.mkdir(parents=True)
    entry = '[[model]]\nid = "twin"\nname = "{}"\nrepo = "a/b"\nfile = "b.gguf"\nsize = 1\n'
    catalog.write_text(entry.format("First") + entry.format("Second"))
    done = llm_tui(llm_home, "models", "list")
    assert "[[model]] #2 (id 'twin'): the id is already used by [[model]] #1" in done.stderr


def test_a_deep_tree_outline_stays_small(llm_home: Path) -> None:
    engine = FakeEngine()
    chat = Chat(engine, None, Sampling(max_tokens=2, seed=1))
    for _ in range(120):  # every turn regenerated once: a branch at each of 120 levels
        list(chat.send("go"))
        list(chat.reply(chat.prepare_regenerate(chat.session.turns[-1])))
    saved = transcripts.record(chat.session, engine.info, None)
    text = export.outline(saved)
    assert max(len(line) for line in text.splitlines()) < 200 and "[depth " in text
