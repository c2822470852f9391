"""Two experiments that show what a model is: who it says it is, and what it remembers.

Every answer comes from a fresh session (empty transcript, cleared cache) with the same seed, so the
only thing that differs between answers is the hidden prompt.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat, ChatEngine
from tui.core.prompt.build import Prompt

IDENTITY_QUESTION = "Who are you? Who made you?"
MEMORY_FACT = "My name is Zorblax and my favourite colour is ultraviolet. Please remember that."
MEMORY_QUESTION = "What is my name, and what is my favourite colour?"


@dataclass(frozen=True)
class Answer:
    label: str
    system: str | None
    prompt: Prompt
    text: str
    seed: int


def ask_fresh(
    engine: ChatEngine,
    label: str,
    system: str | None,
    question: str,
    sampling: Sampling,
    variables: Mapping[str, object] | None = None,
) -> Answer:
    """One question in a session of its own: nothing before it in the prompt or the cache.

    The answer is the reply without its thinking (a reasoning model's thinking is not its answer).
    """
    chat = Chat(engine, system, sampling, variables=variables)
    chat.new_session()
    for _event in chat.send(question):
        pass
    turn = chat.session.turns[0]
    return Answer(label, system, turn.prompt, turn.reply.strip(), turn.stats.seed if turn.stats else -1)


def identity_probe(
    engine: ChatEngine,
    question: str,
    subjects: list[tuple[str, str | None]],
    sampling: Sampling,
    variables: Mapping[str, object] | None = None,
) -> Iterator[Answer]:
    """The same question, seed and model under each (label, system message) pair."""
    for label, system in subjects:
        yield ask_fresh(engine, label, system, question, sampling, variables)


def memory_test(
    engine: ChatEngine,
    system: str | None,
    sampling: Sampling,
    fact: str = MEMORY_FACT,
    question: str = MEMORY_QUESTION,
) -> tuple[Answer, Answer]:
    """Tell the model a fact in one session, ask for it in the next: the second prompt never has it."""
    told = ask_fresh(engine, "Session 1: told the fact", system, fact, sampling)
    asked = ask_fresh(engine, "Session 2: asked for it", system, question, sampling)
    return told, asked
