"""Sessions on the real model: the transcript is re-sent, a new session remembers nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.core.engine.llama import Engine
from tui.core.engine.values import ContextFullError, LoadOptions, Piece, ReplyStats

SYSTEM = "You are a friendly assistant who answers in one or two sentences."
QUESTION = "What is my name, and what is my favourite colour?"
SEED, MAX_TOKENS = 424242, 40


def _reply(chat: Chat, text: str) -> tuple[str, ReplyStats]:
    parts, stats = [], None
    for event in chat.send(text):
        if isinstance(event, Piece):
            parts.append(event.text)
        else:
            stats = event
    assert stats is not None
    return "".join(parts), stats


def test_follow_up_turns_resend_the_transcript_and_reuse_the_cache(engine: Engine) -> None:
    engine.reset()
    chat = Chat(engine, SYSTEM, Sampling(temperature=0.0, max_tokens=24, seed=1))
    first, _ = _reply(chat, "My name is Zorblax.")
    prepared = chat.prepare("What did I just tell you?")
    assert "My name is Zorblax." in prepared.prompt.text
    assert first.strip() in prepared.prompt.text
    _, stats = next((None, e) for e in chat.reply(prepared) if isinstance(e, ReplyStats))
    assert stats.reused_tokens > len(chat.session.turns[0].prompt) // 2
    assert len(chat.session.turns) == 2


def test_a_new_session_is_byte_identical_to_a_fresh_process(model_path: Path, tmp_path: Path) -> None:
    """After a long first session, the new session's reply equals a brand-new process's reply."""
    sampling = Sampling(temperature=0.8, max_tokens=MAX_TOKENS, seed=SEED)
    engine = Engine(model_path, LoadOptions(n_ctx=4096))
    chat = Chat(engine, SYSTEM, sampling)
    for line in [
        "My name is Zorblax and my favourite colour is ultraviolet.",
        "Remember that: Zorblax, ultraviolet.",
        "I also keep seven pet axolotls named after planets.",
        "Please repeat my name and colour back to me.",
        QUESTION,
    ]:
        _reply(chat, line)
    old_prompt = chat.prepare("anything").prompt
    assert "Zorblax" in old_prompt.text and len(old_prompt) > 200

    chat.new_session()
    assert engine.cached_tokens == 0 and chat.session.turns == [] and chat.session.number == 2
    fresh_prompt = chat.prepare(QUESTION).prompt
    for remembered in ("Zorblax", "ultraviolet", "axolotl"):
        assert remembered not in fresh_prompt.text
    in_session, stats = _reply(chat, QUESTION)
    assert stats.reused_tokens == 0 and stats.seed == SEED
    engine.close()

    env = {**os.environ, "LLM_TUI_HOME": str(tmp_path / "fresh-home")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "--model",
            str(model_path),
            "--ctx",
            "4096",
            "ask",
            QUESTION,
            "--system",
            SYSTEM,
            "--seed",
            str(SEED),
            "--temperature",
            "0.8",
            "--max-tokens",
            str(MAX_TOKENS),
        ],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    fresh_process = done.stdout.decode("utf-8")
    assert fresh_process == in_session + "\n"
    assert in_session.strip()  # an empty reply would match trivially


def test_old_turns_are_dropped_to_fit_but_never_the_system_message(model_path: Path) -> None:
    engine = Engine(model_path, LoadOptions(n_ctx=512))
    chat = Chat(engine, SYSTEM, Sampling(temperature=0.0, max_tokens=32, seed=1))
    filler = "Here is a long remark about the weather, the sea and the mountains. " * 6
    dropped_total: list[int] = []
    for n in range(6):
        prepared = chat.prepare(f"Turn {n}. {filler}")
        dropped_total += prepared.dropped
        assert len(prepared.prompt) + 32 <= 512
        assert SYSTEM in prepared.prompt.text
        list(chat.reply(prepared))
    assert dropped_total == list(range(len(dropped_total))) and dropped_total
    final = chat.prepare("Which turns do you see?").prompt.text
    assert "Turn 0." not in final
    assert "Turn 5." in final
    engine.close()


def test_system_and_message_alone_too_long_is_a_clear_error(model_path: Path) -> None:
    engine = Engine(model_path, LoadOptions(n_ctx=256))
    chat = Chat(engine, "Be brief. " * 100, Sampling(max_tokens=32))
    with pytest.raises(ContextFullError, match="exceeds the context of 256 tokens"):
        chat.prepare("Hello")
    engine.close()
