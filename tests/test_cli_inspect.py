"""`llm-tui prompt --parts`, `prompt --diff` and `probe`, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tui.core.chat import transcripts
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.core.engine.llama import Engine
from tui.core.engine.values import LoadOptions
from tui.paths import get_paths


def llm_tui(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LLM_TUI_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env, timeout=180
    )


def test_parts_table(llm_home: Path) -> None:
    done = llm_tui("prompt", "--parts", "Who are you?", home=llm_home)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("template's own text") and "26 tokens" in lines[0]
    assert lines[-1].startswith("total") and "34 tokens of a 4096-token context" in lines[-1]


def test_diff_against_the_last_turn_of_a_saved_session(llm_home: Path, model_path: Path) -> None:
    engine = Engine(model_path, LoadOptions(n_ctx=2048))
    chat = Chat(engine, "Be brief.", Sampling(max_tokens=8, seed=1))
    list(chat.send("My name is Zorblax."))
    saved = transcripts.save(get_paths(), chat.session, engine.info, None)
    engine.close()
    assert saved is not None
    done = llm_tui("prompt", "--diff", chat.session.id, "What is my name?", home=llm_home)
    assert done.returncode == 0, done.stderr
    previous = chat.session.turns[0].prompt.text
    assert done.stdout.startswith(previous.rstrip("\n")[:50])
    assert "My name is Zorblax." in done.stdout and done.stdout.rstrip().endswith("<|im_start|>assistant")
    assert "is re-sent whole" in done.stderr and "holds nothing between turns" in done.stderr
    missing = llm_tui("prompt", "--diff", "nope", "hi", home=llm_home)
    assert missing.returncode == 1 and "no saved session `nope`" in missing.stderr
    diff = ("prompt", "--diff", chat.session.id)
    as_json = json.loads(llm_tui(*diff, "--json", "What?", home=llm_home).stdout)
    new_from = as_json["diff"]["new_from_token"]
    assert as_json["diff"]["unchanged_characters"] == len(previous)
    assert "".join(t["piece"] for t in as_json["tokens"][:new_from]) == previous
    listed = llm_tui(*diff, "--tokens", "What?", home=llm_home).stdout.splitlines()
    assert [line.split()[0] for line in listed if "+" in line.split()[2]][0] == str(new_from)
    parts = llm_tui(*diff, "--parts", "What?", home=llm_home).stdout
    assert f"new since the session's last prompt: tokens {new_from} to" in parts


def test_probe_answers_from_fresh_sessions_with_one_seed(llm_home: Path) -> None:
    first = llm_tui("probe", "--max-tokens", "24", home=llm_home)
    assert first.returncode == 0, first.stderr
    sections = first.stdout.split("== ")[1:]
    assert [s.splitlines()[0] for s in sections] == ["(no system message)", "almo", "chatgpt-2024"]
    assert "system: You are Almo, a model developed by Allen AI." in sections[1]
    answers = [s.split("answer: ", 1)[1].strip() for s in sections]
    assert len(set(answers)) == 3  # only the hidden prompt differs, and so does the answer
    again = llm_tui("probe", "--max-tokens", "24", home=llm_home)
    assert again.stdout == first.stdout  # fresh sessions, same seed: the same answers
    prompts = llm_tui("probe", "--persona", "almo", "--prompts", "--max-tokens", "4", home=llm_home)
    assert "<|im_start|>system\nYou are Almo" in prompts.stdout


TONE_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n({{ tone }}) {% endif %}"
)


def test_diff_of_a_session_with_dropped_turns_and_variables_is_what_the_chat_sends(
    llm_home: Path, model_path: Path, tmp_path: Path
) -> None:
    template = tmp_path / "tone.jinja"
    template.write_text(TONE_TEMPLATE)
    engine = Engine(model_path, LoadOptions(n_ctx=512))
    engine.use_template_file(template)
    chat = Chat(engine, "Be brief.", Sampling(max_tokens=16, seed=2), variables={"tone": "dry"})
    for _ in range(4):
        list(chat.send("Tell me about the sea. " * 18))
    assert chat.session.first_kept > 0  # turns were dropped to fit
    sent_next = chat.prepare("And the sky?").prompt.text
    saved = transcripts.save(get_paths(), chat.session, engine.info, None)
    engine.close()
    assert saved is not None
    done = llm_tui(
        "prompt", "--diff", chat.session.id, "And the sky?", "--ctx", "512",
        "--chat-template-file", str(template), home=llm_home,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == sent_next + ("" if sent_next.endswith("\n") else "\n")
    assert "(dry) " in done.stdout and "Be brief." in done.stdout
