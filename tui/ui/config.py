"""What the TUI is started with: the command line's choices, or a test's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.chat.sampling import Sampling
from tui.core.engine.values import LoadOptions

if TYPE_CHECKING:
    from tui.core.chat.session import ChatEngine
    from tui.core.settings.server import ServerSettings


@dataclass
class AppConfig:
    model: str | None = None
    persona: str | None = None
    """Persona id to start with (default: `no-system`)."""
    system: str | None = None
    """--system: replaces the persona's system message until another persona is picked."""
    no_system: bool = False
    load: LoadOptions = field(default_factory=LoadOptions)
    """Load settings given as flags; saved and configured ones are merged in when loading."""
    sampling: Sampling = field(default_factory=Sampling)
    engine_factory: Callable[[], ChatEngine] | None = None
    """Tests may pass their own; by default the real engine loads ``model``."""
    server: ServerSettings | None = None
    """A llama-server whose model to use instead of loading one here."""
    thinking: bool | None = None
    """--thinking on/off: the template's ``enable_thinking`` for every session (None: as the persona says)."""
    chat_template_file: Path | None = None
    """--chat-template-file: replaces the model's own chat template."""
