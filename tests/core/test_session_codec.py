"""`record` and `restore` are inverses on a real session: branches, turns dropped for context,
template variables, a reply continued from a runner-up token."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tui.core.chat import transcripts
from tui.core.chat.export import outline
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.core.engine.llama import Engine
from tui.core.engine.values import LoadOptions

LONG = "Tell me about the sea. " * 18


def _without_time(saved: transcripts.Transcript) -> transcripts.Transcript:
    return replace(saved, saved=None)


def test_record_and_restore_are_inverses(model_path: Path) -> None:
    engine = Engine(model_path, LoadOptions(n_ctx=512))
    chat = Chat(engine, "Be brief.", Sampling(max_tokens=24, seed=3), variables={"tone": "dry"})
    for _ in range(4):  # long messages: the oldest turns are dropped to fit
        list(chat.send(LONG))
    assert chat.session.first_kept > 0
    list(chat.reply(chat.prepare_regenerate()))
    confident = chat.reply(chat.prepare("Name a fish."), confidence=True)
    list(confident)
    leaf = chat.session.tree.leaf
    assert leaf is not None
    at = next(i for i, p in enumerate(leaf.pieces) if p.confidence and p.confidence.alternatives)
    runner_up = leaf.pieces[at].confidence.alternatives[0].token  # type: ignore[union-attr]
    list(chat.reply(chat.prepare_from_token(leaf, at, runner_up)))
    info = engine.info
    engine.close()

    saved = transcripts.record(chat.session, info, "pirate")
    assert saved.variables == {"tone": "dry"} and any(t.first_kept for t in saved.turns)
    restored = transcripts.restore(saved)
    assert _without_time(transcripts.record(restored, info, "pirate")) == _without_time(saved)
    assert [t.prompt.text for t in restored.turns] == [t.prompt.text for t in chat.session.turns]
    assert restored.first_kept == chat.session.first_kept
    assert transcripts.parse(saved.to_json()) == saved  # and through JSON
    assert "continued from a runner-up token" in outline(saved)


def test_a_first_kept_past_its_turn_is_refused() -> None:
    data = {
        "format": 2,
        "id": "x",
        "number": 1,
        "started": "2026-11-28T08:00:00+00:00",
        "model": {"name": "m", "file": "f", "context": 512, "device": "CPU"},
        "sampling": {},
        "turns": [
            {"user": "a", "reply": "b", "prompt_tokens": 1, "prompt": "p", "asked": 1, "first_kept": 3}
        ],
        "path": [0],
    }
    try:
        transcripts.parse(data)
    except ValueError as exc:
        assert "turns[0].first_kept: expected 0 to 0" in str(exc)
    else:
        raise AssertionError("a first_kept past its turn was read")
