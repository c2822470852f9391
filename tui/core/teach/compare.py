"""The lecture's comparison, side by side: the bare base model, the base model with the persona's
hidden system message, and the taught model with no system message at all, each with its prompt.

The same question, seed and sampling for all three, each in a fresh session: only the hidden
prompt and the weights differ. A new session on the taught model still starts from nothing: the
weights hold what was taught, not past conversations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from tui.core.chat.experiments import Answer, ask_fresh
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import ChatEngine
from tui.core.chat.settings import SessionSettings, session_settings
from tui.core.personas.store import PersonaSet
from tui.core.teach.provenance import Provenance, of_file

TAUGHT_NOTE = (
    "{name}: taught {persona} into its weights ({provenance}). Its prompt holds no persona: the "
    "identity comes from the weights. A new session still starts from nothing: the weights hold "
    "what was taught, not past conversations."
)


@dataclass(frozen=True)
class ThreeWay:
    provenance: Provenance
    persona: SessionSettings | None
    """The persona's session settings as they are now (None: the persona file is gone)."""


def three_way(model: Path, personas: PersonaSet) -> ThreeWay | None:
    """What the comparison needs for ``model`` (None when llm-tui did not teach it)."""
    made = of_file(model)
    if made is None:
        return None
    persona = personas.get(made.persona)
    return ThreeWay(made, session_settings(persona) if persona is not None else None)


def answers(
    taught: ChatEngine,
    base: ChatEngine | None,
    plan: ThreeWay,
    question: str,
    sampling: Sampling,
) -> Iterator[Answer]:
    """Bare base, base with the persona's system message, taught with none: in that order (the
    first two only when the base model is here, the second only when the persona still is)."""
    made = plan.provenance
    bare = SessionSettings(sampling=sampling)
    if base is not None:
        yield ask_fresh(base, f"{made.base_name}: no system message", bare, question)
        if plan.persona is not None:
            hidden = replace(plan.persona, sampling=sampling)
            yield ask_fresh(
                base, f"{made.base_name} + {made.persona}'s hidden system message", hidden, question
            )
    yield ask_fresh(taught, f"{made.title}: no system message", bare, question)


def taught_note(engine_name: str, made: Provenance) -> str:
    where = f"base {made.base_name}, {made.conversations} conversations, {made.epochs} epoch(s)"
    return TAUGHT_NOTE.format(
        name=engine_name, persona=f"the persona “{made.persona_name}”", provenance=where
    )
