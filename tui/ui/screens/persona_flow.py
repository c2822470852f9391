"""From the persona picker to what follows: use, edit, duplicate, or create a persona."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.chat.session import Session
from tui.core.chat.settings import session_settings
from tui.core.engine.values import ContextFullError
from tui.core.personas.format import Persona
from tui.core.personas.store import PersonaIdError
from tui.core.prompt.template import TemplateRenderError
from tui.core.safe_read import read_text_bounded
from tui.paths import get_paths
from tui.ui.dialogs.common import AskText
from tui.ui.dialogs.new_persona import NewPersonaForm
from tui.ui.screens.persona_editor import PersonaEditor
from tui.ui.screens.persona_picker import PersonaPicker, PickerChoice

if TYPE_CHECKING:
    from tui.ui.hosts import ChatHost


def open_picker(chat: ChatHost, current: str) -> None:
    app, host = chat.app, chat.llm_app

    def chosen(choice: PickerChoice | None) -> None:
        if choice is None:
            return
        if choice.action == "use" and choice.persona_id:
            chat.use_persona(choice.persona_id)
        elif choice.action == "edit" and choice.persona_id is not None and choice.path is not None:
            open_editor(chat, choice.persona_id, choice.path)
        elif choice.action == "duplicate" and choice.persona_id and choice.path is not None:
            duplicate(chat, choice.persona_id, choice.path)
        elif choice.action == "teach" and choice.persona_id:
            open_teach(chat, choice.persona_id)
        elif choice.action == "new":
            app.push_screen(NewPersonaForm(host.store), lambda new_id: _edit_new(chat, new_id))

    app.push_screen(PersonaPicker(host.personas, current, partial(unusable, chat)), chosen)


def open_teach(chat: ChatHost, persona_id: str) -> None:
    """Teach ``persona_id`` into a copy of the model loaded now (only a model loaded here: a
    server's model is not this machine's to change)."""
    from tui.ui.screens.teach import TeachScreen

    persona = chat.llm_app.personas.get(persona_id)
    if chat.chat is None or persona is None:
        chat.app.notify("The model is still loading.", severity="warning")
        return
    info = chat.chat.engine.info
    if info.server:
        chat.app.notify(
            "Teaching is local: it changes a copy of a model's weights on this machine, not a server's.",
            severity="warning",
        )
        return
    from tui.core.models.catalog import entry_for_file

    entry = entry_for_file(get_paths(), info.path)
    base_id = entry.id if entry else info.path.stem.lower()
    base_spec = entry.id if entry else str(info.path)
    chat.app.push_screen(TeachScreen(chat.chat.engine, base_spec, base_id, info.name, persona, get_paths()))


def unusable(chat: ChatHost, persona: Persona) -> str | None:
    """Why ``persona`` cannot be used with the loaded model (its system message is too long)."""
    if chat.chat is None:
        return None
    try:
        settings = session_settings(persona, base=chat.config.sampling)
        session = Session(
            settings.system,
            settings.sampling,
            parse_special=settings.parse_special,
            variables=dict(settings.variables),
        )
        session.prepare(chat.chat.engine, "")
    except ContextFullError as exc:
        return str(exc)
    except TemplateRenderError:
        return None
    return None


def open_editor(chat: ChatHost, persona_id: str, path: Path) -> None:
    """Edit the user's copy if there is one, else the file shown (bundled, or a broken one)."""
    app, host = chat.app, chat.llm_app
    try:
        user: Path | None = host.store.user_path(persona_id)  # checks the id: never a path by hand
    except PersonaIdError:
        user = None  # a broken file whose name is not an id: edit it where it is
    source = user if user is not None and user.exists() else path
    app.push_screen(PersonaEditor(host.store, persona_id, source))


def duplicate(chat: ChatHost, persona_id: str, path: Path) -> None:
    app, host = chat.app, chat.llm_app

    def check(answer: str) -> str | None:
        try:
            host.store.user_path(answer)  # refuses an id that is not a plain slug
        except PersonaIdError as exc:
            return str(exc)
        return "that id is taken" if host.store.taken(answer) or host.store.bundled_path(answer) else None

    def copy(new_id: str | None) -> None:
        if new_id:
            try:
                host.store.save(new_id, read_text_bounded(path))
            except OSError as exc:
                app.notify(f"Could not duplicate {path.name}: {exc}", severity="error", markup=False)
                return
            host.check_persona_files()
            _edit_new(chat, new_id)

    app.push_screen(AskText("Duplicate as a new persona with the id:", f"{persona_id}-copy", check), copy)


def _edit_new(chat: ChatHost, new_id: str | None) -> None:
    if new_id:
        chat.llm_app.check_persona_files()
        open_editor(chat, new_id, chat.llm_app.store.user_path(new_id))
