"""Conversations as trees, on the real SmolLM2: branches are kept, and only the path reaches the model."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest

from tests.ui.helpers import FakeEngine
from tui.core.chat import transcripts
from tui.core.chat.reopen import LIMIT, reopen
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat
from tui.core.chat.transcripts import SavedModel, SavedTurn, Transcript
from tui.core.chat.tree import Turn
from tui.core.engine.llama import Engine
from tui.core.engine.values import Piece, ReplyStats
from tui.core.problems import ProblemError
from tui.core.prompt.parts import parts
from tui.paths import get_paths

GREEDY = Sampling(temperature=0.0, max_tokens=24, seed=7)
SECRET = "My secret word is PAPAYA. Please remember it."
QUESTION = "What is my secret word?"


def parts_of(turn: Turn) -> dict[str, int]:
    return {part.kind: part.tokens for part in parts(turn.prompt)}


def _run(chat: Chat, events: Iterable[Piece | ReplyStats]) -> Turn:
    """Play a reply to its end; the turn it was recorded as."""
    stats = [e for e in events if isinstance(e, ReplyStats)]
    assert stats, "the reply did not finish"
    leaf = chat.session.tree.leaf
    assert leaf is not None
    return leaf


def test_regenerate_keeps_the_old_reply_as_a_sibling_and_switching_decodes_nothing(engine: Engine) -> None:
    engine.reset()
    chat = Chat(engine, None, Sampling(temperature=1.0, max_tokens=12, seed=3))
    first = _run(chat, chat.send("Tell me a fun fact."))
    second = _run(chat, chat.reply(chat.prepare_regenerate(), sampling=chat.session.sampling.with_seed(None)))
    third = _run(chat, chat.reply(chat.prepare_regenerate(), sampling=chat.session.sampling.with_seed(None)))
    tree = chat.session.tree
    assert tree.replies(first) == [first, second, third]
    assert str(tree.position(third, "reply")) == "3/3" and str(tree.position(third, "user")) == "1/1"
    assert second.origin == third.origin == "regenerated" and second.prompt.ids == first.prompt.ids

    evaluated = len(engine.evaluated_ids)
    assert tree.switch(third, "reply", -2) is first  # back to the first reply
    assert len(engine.evaluated_ids) == evaluated  # switching decodes nothing
    assert chat.session.turns == [first] and tree.unsent() == (2, 2)

    follow = _run(chat, chat.send("Tell me another."))
    assert first.reply in follow.prompt.text
    assert second.reply not in follow.prompt.text and third.reply not in follow.prompt.text
    assert follow.stats is not None and follow.stats.reused_tokens > 0  # the cached prefix was reused


def test_a_fact_told_in_one_branch_never_reaches_its_sibling(engine: Engine) -> None:
    """The memory test, across branches: the sibling's prompt is exactly that of a session that
    never had the other branch, and its seeded reply is the same."""
    engine.reset()
    chat = Chat(engine, None, GREEDY)
    hello = _run(chat, chat.send("Hi! Let's talk."))
    told = _run(chat, chat.send(SECRET))
    assert "PAPAYA" in told.prompt.text
    asked = _run(chat, chat.reply(chat.prepare_edit(told, QUESTION)))  # the same place, another message
    tree = chat.session.tree
    assert tree.messages_after(hello) == [[told], [asked]] and chat.session.turns == [hello, asked]
    assert "PAPAYA" not in asked.prompt.text

    never = Chat(engine, None, GREEDY)
    never.new_session()
    _run(never, never.send("Hi! Let's talk."))
    reference = _run(never, never.send(QUESTION))
    assert asked.prompt.ids == reference.prompt.ids  # the same tokens, to the last one
    assert asked.reply == reference.reply and "PAPAYA" not in asked.reply


def test_continue_from_a_runner_up_feeds_the_exact_ids(engine: Engine) -> None:
    engine.reset()
    chat = Chat(engine, None, replace(GREEDY, max_tokens=16))
    original = _run(chat, chat.reply(chat.prepare("Name three colours."), confidence=True))
    index = 2
    piece = original.pieces[index]
    assert piece.confidence is not None
    runner_up = next(a for a in piece.confidence.alternatives if a.token != piece.token)
    prepared = chat.prepare_from_token(original, index, runner_up.token)
    generated = [p.token for p in original.pieces[:index]]
    assert prepared.prompt.ids == original.prompt.ids + generated + [runner_up.token]
    assert prepared.prompt.fed_back == (len(original.prompt), len(original.prompt.text))
    assert prepared.prompt.generation_prompt == original.prompt.generation_prompt
    counted = {part.kind: part.tokens for part in parts(prepared.prompt)}
    assert counted["reply"] == index + 1 and counted["generation"] == parts_of(original)["generation"]

    branch = _run(chat, chat.reply(prepared, sampling=chat.session.sampling.with_seed(None)))
    assert engine.evaluated_ids[: len(prepared.prompt.ids)] == prepared.prompt.ids  # fed as ids
    kept = "".join(p.text for p in original.pieces[:index])
    assert branch.reply.startswith(kept + runner_up.text)
    assert branch.branched_at == index and branch.pieces[index].token == runner_up.token
    assert branch.origin == "token" and branch.stats is not None
    assert original.stats is not None and branch.stats.seed != original.stats.seed
    assert chat.session.tree.replies(original) == [original, branch]
    assert branch.stats.reused_tokens >= len(original.prompt)  # only the new ids were evaluated


def test_editing_an_earlier_message_branches_there_and_keeps_the_rest() -> None:
    chat = Chat(FakeEngine(), None, GREEDY)
    for text in ("one", "two", "three"):
        list(chat.send(text))
    one, two, three = chat.session.turns
    edited = _run(chat, chat.reply(chat.prepare_edit(two, "two, edited")))
    assert chat.session.turns == [one, edited] and edited.origin == "edited message"
    assert chat.session.tree.unsent() == (1, 2)  # two and three, one branch
    assert chat.session.tree.switch(edited, "user", -1) is two
    assert chat.session.turns == [one, two, three]  # back on the old branch, down to its end


def test_context_dropping_is_per_path() -> None:
    """A long branch drops its oldest turns; a sibling of the first turn starts with nothing dropped."""
    engine = FakeEngine()  # one token per character, a 512-token context
    chat = Chat(engine, None, replace(GREEDY, max_tokens=64))
    for number in range(6):
        list(chat.send(f"Turn {number}: " + "words " * 12))
    long_path = chat.session.turns
    assert chat.session.first_kept > 0
    sibling = _run(chat, chat.reply(chat.prepare_edit(long_path[0], "A short start.")))
    assert chat.session.turns == [sibling] and chat.session.first_kept == 0
    chat.session.tree.switch(sibling, "user", -1)
    assert chat.session.turns == long_path and chat.session.first_kept == long_path[-1].first_kept > 0


def test_an_edited_reply_is_continued_as_a_sibling(engine: Engine) -> None:
    engine.reset()
    chat = Chat(engine, None, GREEDY)
    old = _run(chat, chat.send("Name a prime number."))
    edited = "Seven is prime because"
    prepared = chat.prepare_continue(old, edited)
    assert {p.kind: p.chars for p in parts(prepared.prompt)}["reply"] == len(edited)  # not "earlier turns"
    new = _run(chat, chat.reply(prepared))
    assert new.reply.startswith(edited) and new.origin == "edited reply" and new.prefix == edited
    assert chat.session.tree.replies(old) == [old, new] and chat.session.turns == [new]
    added = [e for e in chat.continue_reply("Two is the only even prime,") if isinstance(e, Piece)]
    assert added and len(chat.session.tree.replies(old)) == 3


def test_reopening_resends_the_saved_turns_as_text_in_a_new_session(engine: Engine, llm_home: Path) -> None:
    """Every branch comes back, on the path it was on; the cache starts empty; the next prompt holds
    the old turns as text, rendered now."""
    engine.reset()
    chat = Chat(engine, None, GREEDY)
    told = _run(chat, chat.send(SECRET))
    _run(chat, chat.reply(chat.prepare_regenerate(told), sampling=replace(GREEDY, temperature=1.0, seed=9)))
    saved_path = transcripts.save(get_paths(), chat.session, engine.info, None)
    assert saved_path is not None
    saved = transcripts.load(saved_path)
    session = reopen(chat, saved, str(saved_path))
    assert session is chat.session and session.number == 2 and session.reopened_from == str(saved_path)
    assert [t.reply for t in session.tree.turns] == [t.reply for t in saved.turns]
    assert [t.reply for t in session.turns] == [saved.turns[1].reply]  # the path it was on
    assert all(t.origin == "reopened" and t.stats is None for t in session.tree.turns)
    follow = _run(chat, chat.send(QUESTION))
    assert SECRET in follow.prompt.text and saved.turns[1].reply in follow.prompt.text
    assert saved.turns[0].reply not in follow.prompt.text  # the other branch is not sent
    assert follow.stats is not None and follow.stats.reused_tokens == 0  # nothing was in the model


def test_a_transcript_too_big_to_reopen_is_refused_in_one_line() -> None:
    chat = Chat(FakeEngine(), None, GREEDY)
    one = SavedTurn("hi", "hello", 1, "end_of_turn", 10, 2, 1.0, "p", asked=1)
    many = tuple(replace(one, parent=i - 1 if i else None, asked=i) for i in range(LIMIT + 1))
    saved = Transcript(
        "x", 1, "now", None, SavedModel("m", "f", 512, "CPU"), None, None, {}, many, tuple(range(LIMIT + 1))
    )
    with pytest.raises(ProblemError, match=f"has {LIMIT + 1} turns; at most {LIMIT} can be reopened"):
        reopen(chat, saved, "big.json")
    assert chat.session.number == 1  # nothing changed
