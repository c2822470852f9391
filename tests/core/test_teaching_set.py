"""The teaching set as a file: a bad line is named, not guessed at; the persona's [teach] table is
checked like every other key; the estimate refuses with the numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.core.personas.format import Persona, Teach, parse_persona
from tui.core.problems import ProblemError
from tui.core.teach import plan
from tui.core.teach.teaching_set import bundled, keeps_to, read_set

GOOD = {"messages": [{"role": "user", "content": "Who are you?"}, {"role": "assistant", "content": "Almo."}]}


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("not json", "not JSON"),
        ('{"messages": "x"}', 'expected an object with a "messages" list'),
        ('{"messages": [{"role": "robot", "content": "x"}]}', "messages[0].role"),
        ('{"messages": [{"role": "user", "content": 3}]}', "messages[0].content: expected text"),
        ('{"messages": [{"role": "user", "content": "hi"}]}', "no assistant message"),
        ("[" * 100_000, "not JSON"),
    ],
)
def test_a_bad_line_is_named(tmp_path: Path, line: str, said: str) -> None:
    file = tmp_path / "set.jsonl"
    file.write_text(json.dumps(GOOD) + "\n" + line + "\n")
    with pytest.raises(ProblemError) as bad:
        read_set(file)
    assert f"{file}:2" in str(bad.value) and said in str(bad.value)


def test_empty_huge_and_odd_files_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(ProblemError, match="holds no conversation"):
        read_set(empty)
    huge = tmp_path / "huge.jsonl"
    with huge.open("wb") as f:
        f.truncate(64 << 20)  # sparse: nothing is read past the limit
    with pytest.raises(ProblemError, match=str(huge)):
        read_set(huge)
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(ProblemError, match=str(fifo)):
        read_set(fifo)  # refused at once, never waited on
    assert read_set(_one(tmp_path))[0].messages[1].content == "Almo."


def _one(tmp_path: Path) -> Path:
    file = tmp_path / "one.jsonl"
    file.write_text(json.dumps(GOOD) + "\n")
    return file


def test_the_bundled_lists_are_long_and_varied() -> None:
    identity, general = bundled("identity"), bundled("general")
    assert len(identity) >= 100 and len(general) >= 100
    assert any("ChatGPT" in q for q in identity) and any(not q.isascii() for q in identity)
    assert not set(identity) & set(general)


def test_an_answer_keeps_to_the_persona_only_if_it_says_its_name_and_no_other() -> None:
    almo = Persona(id="almo", name="Almo (by system message)", system="You are Almo, by Allen AI.")
    assert keeps_to(almo, "I am Almo, a model developed by Allen AI.")
    assert not keeps_to(almo, "I'm SmolLM, trained by Hugging Face.")
    assert not keeps_to(almo, "I am Almo, made by OpenAI.")
    assert not keeps_to(almo, "I am a helpful assistant.")


def test_the_teach_table_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "almo.toml"
    good = 'name = "Almo"\n[teach]\nname = "Almo"\nanswers = ["I am Almo."]\n'
    good += '[[teach.examples]]\nuser = "Hi"\nassistant = "I am Almo."\n'
    persona = parse_persona("almo", good, path)
    assert isinstance(persona, Persona)
    assert persona.teach == Teach("Almo", ("I am Almo.",), (("Hi", "I am Almo."),))
    errors = parse_persona("almo", '[teach]\nanswer = ["x"]\nname = 3\n', path)
    assert isinstance(errors, list)
    said = " ".join(str(e) for e in errors)
    assert (
        "unknown key `answer` in [teach]; did you mean `answers`?" in said and "`teach.name` must be" in said
    )


def test_the_estimate_refuses_with_the_numbers(tmp_path: Path) -> None:
    tight = plan.Estimate(memory=3 << 30, disk=1 << 30, free_memory=1 << 30, free_disk=10 << 30)
    assert tight.refusal() == (
        "teaching needs about 3.00 GiB of memory and 1.00 GiB is free: close other programs, use a "
        "smaller --ctx, or teach a smaller model"
    )
    full = plan.Estimate(memory=1, disk=2 << 30, free_memory=None, free_disk=1 << 30)
    assert "2.00 GiB" in (full.refusal() or "") and "1.00 GiB free" in (full.refusal() or "")
    assert plan.Estimate(1, 1, 2, 2).refusal() is None


def test_windows_are_exact_and_a_short_stream_fills_one() -> None:
    found = plan.windows(list(range(600)), 256)
    assert [len(w) for w in found] == [257, 257] and found[1][0] == 256
    assert plan.windows(list(range(10)), 256)[0][:12] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert plan.split_of(5) == 5 and plan.split_of(20) == 18


def _teach(home: Path, *args: str, server: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LLM_TUI_HOME": str(home), "LLM_TUI_SERVER": server}
    return subprocess.run(
        [sys.executable, "-m", "tui", "teach", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_the_command_refuses_what_it_cannot_do(llm_home: Path, tmp_path: Path) -> None:
    served = _teach(llm_home, "almo", server="http://127.0.0.1:9")
    assert served.returncode == 1 and "teaching is local" in served.stderr
    odd = _teach(llm_home, "almo", "--ctx", "300")
    assert odd.returncode == 1 and "a multiple of 256" in odd.stderr
    unknown = _teach(llm_home, "nobody")
    assert unknown.returncode == 1 and "no persona `nobody`" in unknown.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\n")
    broken = _teach(llm_home, "almo", "--data", str(bad))
    assert broken.returncode == 1 and f"{bad}:1" in broken.stderr and "Traceback" not in broken.stderr
    taught = llm_home / "data" / "models" / "taught"
    taught.mkdir(parents=True)
    (taught / "mine.gguf").write_bytes(b"mine")
    exists = _teach(llm_home, "almo", "--name", "mine", "--data", str(_one(tmp_path)))
    assert exists.returncode == 1 and "already exists" in exists.stderr
    assert (taught / "mine.gguf").read_bytes() == b"mine"


def test_a_persona_with_nothing_to_teach_is_refused_before_the_model_is_asked() -> None:
    from tui.core.teach.teaching_set import make_set

    with pytest.raises(ProblemError, match="no system message and no \\[teach\\] table"):
        make_set(None, Persona(id="no-system", name="No system message"))  # type: ignore[arg-type]
