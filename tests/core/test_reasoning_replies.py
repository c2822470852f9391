"""Thinking apart from the answer on real parts: SmolLM2 generating under reasoning templates, and
the documented formats cut into real tokens (SmolLM2's and llama.cpp's tokenizer-only vocabularies)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.test_reasoning_templates import TEMPLATES
from tests.core.test_typed_specials import _vocab
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.core.chat.thinking import ThinkingSplitter
from tui.core.engine.llama import Engine
from tui.core.engine.values import Piece

R1 = TEMPLATES / "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"
QWEN3 = TEMPLATES / "Qwen-Qwen3-0.6B.jinja"


@pytest.fixture
def r1_engine(engine: Engine) -> Iterator[Engine]:
    engine.use_template_file(R1)
    engine.reset()
    yield engine
    engine.use_template_file(None)  # the model's own again, its name in the info too


def test_the_template_opened_the_block_so_the_reply_starts_thinking(r1_engine: Engine) -> None:
    chat = Chat(
        r1_engine, None, Sampling(temperature=0, seed=1, max_tokens=30), variables={"enable_thinking": True}
    )
    prepared = chat.prepare("What is 2+2?")
    assert prepared.prompt.generation_prompt.endswith("<think>\n")
    pieces = [e for e in chat.reply(prepared) if isinstance(e, Piece)]
    turn = chat.session.turns[-1]
    assert turn.thinking and turn.thinking == turn.written.split("</think>")[0]
    assert {p.kind for p in pieces if p.text} <= {"thinking", "answer", "markup"}
    assert "".join(p.text for p in pieces if p.kind == "thinking") == turn.thinking
    # the next prompt passes the reply as written: this template cuts what is before </think> itself
    follow = chat.prepare("And 3+3?")
    assert follow.prompt.text.count("<｜Assistant｜>") == 2


def test_thinking_switched_off_closes_the_block_and_the_reply_is_answer(r1_engine: Engine) -> None:
    chat = Chat(
        r1_engine, None, Sampling(temperature=0, seed=1, max_tokens=12), variables={"enable_thinking": False}
    )
    list(chat.send("Say hi."))
    turn = chat.session.turns[-1]
    assert turn.thinking == "" and turn.reply == turn.written and turn.reply


def test_a_variable_the_template_does_not_read_is_said_and_changes_nothing(engine: Engine) -> None:
    engine.reset()
    chat = Chat(engine, None, Sampling(), variables={"enable_thinking": False})
    prompt = chat.prepare("hi").prompt
    assert any("does not read `enable_thinking`" in note for note in prompt.notes)
    assert prompt.text == Chat(engine, None, Sampling()).prepare("hi").prompt.text


THINK = "<think>\nThe user asks 2+2. That is 4.\n</think>\n\nIt is 4."
HARMONY = (
    "<|channel|>analysis<|message|>The user asks 2+2. That is 4.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>It is 4.<|return|>"
)


@pytest.mark.parametrize("name", ["qwen2", "llama-bpe", "llama-spm", "phi-3", "gpt-2"])
def test_documented_formats_cut_into_real_tokens(name: str) -> None:
    for vocab in _vocab(name):
        for text, style in ((THINK, "think"), (HARMONY, "harmony")):
            ids = vocab.tokenize(text, special=True)  # type: ignore[attr-defined]
            pieces = [vocab.piece(i).decode("utf-8", errors="replace") for i in ids]  # type: ignore[attr-defined]
            splitter = ThinkingSplitter(style)  # type: ignore[arg-type]
            got = [seg for piece in pieces for seg in splitter.feed(piece)] + splitter.finish()
            thinking = "".join(t for k, t in got if k == "thinking").strip()
            answer = "".join(t for k, t in got if k == "answer").strip()  # SPM pieces carry a space
            assert (thinking, answer) == ("The user asks 2+2. That is 4.", "It is 4."), (name, style, pieces)


def test_ask_prints_only_the_answer_on_stdout(llm_home: Path) -> None:
    def ask(*extra: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LLM_TUI_HOME": str(llm_home)}
        args = ["ask", "What is 2+2?", "--chat-template-file", str(R1), "--thinking", "on", "-t", "0"]
        return subprocess.run(
            [sys.executable, "-m", "tui", *args, "--max-tokens", "20", "--seed", "1", *extra],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip

    default, hidden, inline = ask(), ask("--thinking-output", "hide"), ask("--thinking-output", "stdout")
    assert default.returncode == hidden.returncode == inline.returncode == 0
    assert "--- thinking ---" in default.stderr and "--- thinking ---" not in default.stdout
    thought = default.stderr.split("--- thinking ---\n", 1)[1].split("\n--- end of thinking ---")[0]
    assert thought and thought not in default.stdout
    assert "--- thinking ---" not in hidden.stderr + hidden.stdout
    assert inline.stdout.startswith("--- thinking ---\n" + thought)


def test_ask_says_when_thinking_never_reached_an_answer(llm_home: Path) -> None:
    env = {**os.environ, "LLM_TUI_HOME": str(llm_home)}
    args = ["ask", "What is 2+2?", "--chat-template-file", str(R1), "--thinking", "on", "--max-tokens", "3"]
    done = subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == ""
    assert "# no answer: the model was still thinking when it stopped (stop: max_tokens)" in done.stderr
