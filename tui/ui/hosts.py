"""What screens, dialogs and the palette ask of the app and of the chat screen, as protocols.

They are typed against these rather than the classes, so nothing under ``tui.ui`` imports the app
or the chat screen back: the app composes the screens, the screens compose widgets, and a test
reading every import (function-level and ``TYPE_CHECKING`` ones included) keeps it a tree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    from tui.core.chat.session import Chat
    from tui.core.chat.settings import SessionSettings
    from tui.core.engine.values import EngineInfo
    from tui.core.personas.store import PersonaSet, PersonaStore
    from tui.ui.config import AppConfig


class AppHost(Protocol):
    """The app as its screens use it: the personas, the model in use, the model browser."""

    personas: PersonaSet
    store: PersonaStore
    current_model: str | None
    """The catalog id of the model in use, when it was chosen from the catalog."""
    keymap: dict[str, str]
    """The [keymap] applied from config.toml: binding id -> keys."""
    config: AppConfig

    def loaded_info(self) -> EngineInfo | None:
        """The model loaded now (None while none is)."""
        ...

    def model_browser(self) -> Screen[str | None]: ...

    def check_persona_files(self) -> None: ...


class ChatHost(Protocol):
    """The chat screen as the persona flow and the experiments use it."""

    @property
    def chat(self) -> Chat | None: ...

    @property
    def app(self) -> App[Any]: ...

    @property
    def llm_app(self) -> AppHost: ...

    @property
    def config(self) -> AppConfig: ...

    @property
    def persona_id(self) -> str: ...

    def settings(self) -> SessionSettings: ...

    def use_persona(self, persona_id: str) -> None: ...
