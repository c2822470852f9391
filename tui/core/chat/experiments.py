"""Two experiments that show what a model is: who it says it is, and what it remembers.

Every answer comes from a fresh session (empty transcript, cleared cache) with the same seed, so the
only thing that differs between answers is the hidden prompt.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat, ChatEngine
from tui.core.chat.settings import Overrides, SessionSettings, session_settings
from tui.core.personas.format import Persona
from tui.core.personas.store import PersonaSet
from tui.core.problems import ProblemError
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


def ask_fresh(engine: ChatEngine, label: str, settings: SessionSettings, question: str) -> Answer:
    """One question in a session of its own: nothing before it in the prompt or the cache.

    The session has all of ``settings`` (system message, sampling, special tokens, template
    variables and template file), as a chat under the same persona would. The answer is the reply
    without its thinking (a reasoning model's thinking is not its answer).
    """
    before = engine.template
    try:
        if settings.template_file is not None:  # else the engine's own, or the one given by flag
            engine.use_template_file(settings.template_file)
        chat = Chat.start(engine, settings)
        chat.new_session()
        for _event in chat.send(question):
            pass
    finally:
        engine.use_template(before)
    turn = chat.session.turns[0]
    return Answer(
        label, settings.system, turn.prompt, turn.reply.strip(), turn.stats.seed if turn.stats else -1
    )


def identity_probe(
    engine: ChatEngine, question: str, subjects: Sequence[tuple[str, SessionSettings]], sampling: Sampling
) -> Iterator[Answer]:
    """The same question, model, seed and sampling under each (label, settings) pair: only the
    hidden prompt differs."""
    for label, settings in subjects:
        yield ask_fresh(engine, label, replace(settings, sampling=sampling), question)


def probe_subjects(
    personas: PersonaSet,
    chosen: Sequence[str] = (),
    also: str | None = None,
    overrides: Overrides | None = None,
) -> list[tuple[str, SessionSettings]]:
    """Whom the probe asks: the ``chosen`` persona ids, or by default no system message and every
    persona tagged "identity" (plus ``also``, the current one, if it has a system message). An
    unknown id is a `ProblemError` naming the known ones. ``overrides``: --thinking and
    --chat-template-file, over every persona's."""
    if chosen:
        picked: list[Persona] = []
        for persona_id in chosen:
            persona = personas.get(persona_id)
            if persona is None:
                known = ", ".join(sorted(personas.personas))
                raise ProblemError(f"no persona `{persona_id}`; known: {known}")
            picked.append(persona)
        return [(p.id, session_settings(p, overrides)) for p in picked]
    tagged = sorted((p for p in personas.personas.values() if "identity" in p.tags), key=lambda p: p.id)
    mine = personas.get(also or "")
    if mine is not None and mine.system and mine not in tagged:
        tagged.append(mine)
    return [("(no system message)", session_settings(None, overrides))] + [
        (p.id, session_settings(p, overrides)) for p in tagged
    ]


def memory_test(
    engine: ChatEngine,
    settings: SessionSettings,
    fact: str = MEMORY_FACT,
    question: str = MEMORY_QUESTION,
) -> tuple[Answer, Answer]:
    """Tell the model a fact in one session, ask for it in the next: the second prompt never has it."""
    told = ask_fresh(engine, "Session 1: told the fact", settings, fact)
    asked = ask_fresh(engine, "Session 2: asked for it", settings, question)
    return told, asked
