"""A new persona from a few fields; written with tomli-w, then opened in the editor."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, TextArea

from tui.core.personas.format import slugify, text_from_fields
from tui.core.personas.store import PersonaIdError, PersonaStore
from tui.ui.actions import bindings


class NewPersonaForm(ModalScreen[str | None]):
    """Returns the id of the persona it wrote, or None."""

    BINDINGS = bindings("dialog")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def __init__(self, store: PersonaStore) -> None:
        super().__init__(classes="dialog")
        self.store = store

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("A new persona", classes="question")
            yield Input(placeholder="Name, e.g. Patient math teacher", id="name")
            yield Input(placeholder="id (the file name), e.g. math-teacher", id="id")
            yield Input(placeholder="One line: what it is for", id="description")
            yield Label("System message (leave empty for none):")
            yield TextArea(id="system")
            yield Label("", id="problem", classes="problem")
            with Horizontal(classes="buttons"):
                yield Button("Create", id="create", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Input.Changed, "#name")
    def _suggest_id(self, event: Input.Changed) -> None:
        self.query_one("#id", Input).placeholder = slugify(event.value) or "math-teacher"

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#create")
    def _create(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        persona_id = self.query_one("#id", Input).value.strip() or slugify(name)
        problem = self.query_one("#problem", Label)
        if not name:
            problem.update("Give it a name.")
            return
        try:
            self.store.user_path(persona_id)  # refuses an id that is not a plain slug
        except PersonaIdError as exc:
            problem.update(Text(str(exc)))
            return
        if self.store.taken(persona_id) is not None or self.store.bundled_path(persona_id):
            problem.update(Text(f"A persona `{persona_id}` exists already: pick another id."))
            return
        description = self.query_one("#description", Input).value.strip()
        system = self.query_one("#system", TextArea).text.strip()
        try:
            self.store.save(persona_id, text_from_fields(name, description, system or None, {}))
        except OSError as exc:  # read-only or full disk: the form keeps what was typed
            problem.update(Text(f"Could not save: {exc.strerror or exc}"))
            return
        self.dismiss(persona_id)
