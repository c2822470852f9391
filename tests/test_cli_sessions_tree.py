"""`llm-tui sessions show --tree`, `export --all` and `prompt --diff` on a saved tree, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli_inspect import llm_tui
from tui.core.chat import transcripts
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.core.engine.llama import Engine
from tui.core.engine.values import LoadOptions
from tui.paths import get_paths


@pytest.fixture
def saved_tree(llm_home: Path, model_path: Path) -> Chat:
    """A real session with a regenerated reply and an edited message: three branches."""
    engine = Engine(model_path, LoadOptions(n_ctx=2048))
    chat = Chat(engine, "Be brief.", Sampling(max_tokens=8, seed=1))
    list(chat.send("My name is Zorblax."))
    first = chat.session.turns[0]
    list(chat.reply(chat.prepare_regenerate(first), sampling=chat.session.sampling.with_seed(2)))
    list(chat.send("What is my name?"))
    asked = chat.session.turns[1]
    list(chat.reply(chat.prepare_edit(asked, "Where do I live?")))
    transcripts.save(get_paths(), chat.session, engine.info, None)
    engine.close()
    return chat


def test_show_tree_draws_every_message_with_its_sibling_position(llm_home: Path, saved_tree: Chat) -> None:
    done = llm_tui("sessions", "show", saved_tree.session.id, "--tree", home=llm_home)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Session #1") and "4 turn(s) in 3 branch(es)" in lines[0]
    one = saved_tree.session.tree.turns[0]
    assert lines[1] == "* you 1/1: My name is Zorblax."
    assert lines[2] == "  model 1/2: " + " ".join(one.reply.split())
    assert lines[3].startswith("* model 2/2 (regenerated): ")  # the current path is marked
    assert lines[4] == "    you 1/2: What is my name?"  # what follows a sibling is indented under it
    assert lines[5].startswith("      model 1/1: ")
    assert lines[6] == "*   you 2/2 (edited): Where do I live?"
    assert lines[7].startswith("*     model 1/1: ")
    assert len(lines) == 8


def test_export_all_writes_the_tree_as_nested_headings(
    llm_home: Path, saved_tree: Chat, tmp_path: Path
) -> None:
    target = tmp_path / "tree.md"
    done = llm_tui("sessions", "export", saved_tree.session.id, "--all", "-o", str(target), home=llm_home)
    assert done.returncode == 0, done.stderr
    text = target.read_text()
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[0].startswith("# Session #1")
    assert headings[1:] == [
        "## You, message 1 of 1 · sent",
        "## Model, reply 1 of 2",
        "## Model, reply 2 of 2 (regenerated) · sent",
        "### You, message 1 of 2",  # under the reply it follows
        "#### Model, reply 1 of 1",
        "### You, message 2 of 2 (edited) · sent",
        "#### Model, reply 1 of 1 · sent",
    ]
    path_only = llm_tui("sessions", "export", saved_tree.session.id, home=llm_home)
    assert "What is my name?" not in path_only.stdout and "Where do I live?" in path_only.stdout
    assert path_only.stdout.count("## Turn ") == 2


def test_prompt_diff_follows_the_current_path(llm_home: Path, saved_tree: Chat) -> None:
    done = llm_tui("prompt", "--diff", saved_tree.session.id, "And my age?", home=llm_home)
    assert done.returncode == 0, done.stderr
    assert "Where do I live?" in done.stdout and "What is my name?" not in done.stdout
    assert "is re-sent whole" in done.stderr


def test_show_tree_on_a_transcript_of_the_first_format(llm_home: Path, saved_tree: Chat) -> None:
    """A format 1 file (no branches) is one straight path, drawn flat; it is not rewritten."""
    path = transcripts.find(get_paths(), saved_tree.session.id)
    assert path is not None
    data = json.loads(path.read_text())
    data["format"] = 1
    data["turns"] = [data["turns"][i] for i in data["path"]]
    del data["path"]
    for turn in data["turns"]:
        for key in ("parent", "asked", "origin", "branched_at"):
            del turn[key]
    path.write_text(json.dumps(data))
    before = path.read_bytes()
    done = llm_tui("sessions", "show", saved_tree.session.id, "--tree", home=llm_home)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "2 turn(s) in 1 branch(es)" in lines[0]
    assert lines[1] == "* you 1/1: My name is Zorblax." and lines[3] == "* you 1/1: Where do I live?"
    assert lines[2].startswith("* model 1/1: ") and lines[4].startswith("* model 1/1: ")
    assert path.read_bytes() == before  # read as it is
    listed = llm_tui("sessions", "list", home=llm_home)
    assert f"{saved_tree.session.id}" in listed.stdout and "2 turns" in listed.stdout


def test_a_long_conversation_draws_without_recursion() -> None:
    """Five thousand turns in one line (deeper than Python's recursion limit) draw flat."""
    from tui.core.chat.export import outline, to_markdown
    from tui.core.chat.transcripts import SavedModel, SavedTurn, Transcript

    count = 5000
    turns = tuple(
        SavedTurn(f"m{i}", f"r{i}", 1, "end_of_turn", 1, 1, 1.0, "p", parent=i - 1 if i else None, asked=i)
        for i in range(count)
    )
    saved = Transcript(
        "x", 1, "now", None, SavedModel("m", "f", 1, "CPU"), None, None, {}, turns, tuple(range(count))
    )
    lines = outline(saved).splitlines()
    assert len(lines) == 1 + 2 * count and lines[-1] == f"* model 1/1: r{count - 1}"
    assert to_markdown(saved, everything=True).count("## You, message 1 of 1 · sent") == count
