"""What a persona and the user's overrides make of a session, as one value built in one place.

The chat (CLI and TUI), `prompt`, `ask` and the identity probe (CLI and TUI) all start sessions
from a `SessionSettings`, so a persona field is honoured everywhere once it is honoured here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.chat.sampling import Sampling

if TYPE_CHECKING:
    from tui.core.personas.format import Persona


@dataclass(frozen=True)
class SessionSettings:
    """Everything a session is started with besides the model."""

    system: str | None = None
    """The hidden system message; None: none at all (the template decides what happens)."""
    sampling: Sampling = field(default_factory=Sampling)
    parse_special: bool = False
    """The persona's opt-in: special tokens typed in messages become control tokens."""
    variables: Mapping[str, object] = field(default_factory=dict)
    """The chat template's own variables (a persona's [template] table, then --thinking)."""
    template_file: Path | None = None
    """A chat template that replaces the model's own; None: the model's own."""
    persona: str | None = None
    """The persona's id, if one was used."""


@dataclass(frozen=True)
class Overrides:
    """What the user said over the persona: flags, or the app's own choices."""

    system: str | None = None
    replace_system: bool = False
    """True for --system or --no-system: ``system`` wins over the persona's (None: no system message)."""
    sampling: Mapping[str, object] = field(default_factory=dict)
    """Sampling settings given as flags (--seed, --temperature, --max-tokens), over the persona's."""
    thinking: bool | None = None
    """--thinking on/off: the template's ``enable_thinking``, over the persona's [template] table."""
    template_file: Path | None = None
    """--chat-template-file, over the persona's ``chat_template_file``."""


def session_settings(
    persona: Persona | None, overrides: Overrides | None = None, base: Sampling | None = None
) -> SessionSettings:
    """The one step from a persona (or none) and the user's overrides to a session's settings:
    ``base`` sampling, then the persona's, then the flags."""
    said = overrides or Overrides()
    sampling = base or Sampling()
    if persona is not None:
        sampling = persona.apply(sampling)
    given = {key: value for key, value in said.sampling.items() if value is not None}
    sampling = replace(sampling, **given)  # type: ignore[arg-type]
    variables: dict[str, object] = dict(persona.template) if persona else {}
    if said.thinking is not None:
        variables["enable_thinking"] = said.thinking
    if said.replace_system:
        system = said.system
    else:
        system = persona.system if persona else None
    return SessionSettings(
        system=system,
        sampling=sampling,
        parse_special=bool(persona and persona.parse_special),
        variables=variables,
        template_file=said.template_file or (persona.chat_template_file if persona else None),
        persona=persona.id if persona else None,
    )
