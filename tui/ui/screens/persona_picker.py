"""Pick a persona: every persona with its origin and a preview; broken files listed with their error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from tui.core.personas.format import Persona
from tui.core.personas.store import PersonaSet
from tui.ui.actions import bindings

ORIGINS = {"bundled": "bundled", "user": "yours", "overridden": "yours, overrides bundled"}


@dataclass(frozen=True)
class PickerChoice:
    action: str
    """"use", "edit", "duplicate" or "new"."""
    persona_id: str | None = None
    path: Path | None = None
    """For "edit": the file to open (also a broken one, to fix it)."""


class PersonaPicker(ModalScreen[PickerChoice | None]):
    BINDINGS = bindings("personas")

    def __init__(
        self, personas: PersonaSet, current: str | None, unusable: Callable[[Persona], str | None]
    ) -> None:
        super().__init__(classes="picker")
        self.personas = personas
        self.current = current
        self.unusable = unusable

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                "Personas: the hidden system message, and the settings that go with it", classes="title"
            )
            with Horizontal():
                yield OptionList(*self._options(), id="persona-list")
                with VerticalScroll(id="persona-preview-box"):
                    yield Static("", id="persona-preview")
            yield Label(
                "enter use (starts a new session) · e edit · d duplicate · n new · escape close",
                classes="hint",
            )

    def _options(self) -> list[Option]:
        options = []
        for persona in sorted(self.personas.personas.values(), key=lambda p: p.name.strip('"“').lower()):
            line = Text.assemble(
                ("● " if persona.id == self.current else "  ", "bold"),
                (persona.name, "bold"),
                (f"  {ORIGINS.get(persona.origin, persona.origin)}", "dim"),
                "\n  ",
                (persona.description, "italic"),
            )
            problem = self.unusable(persona)
            if problem:
                line.append(f"\n  ⚠ {problem}", "red")
            options.append(Option(line, id=persona.id))
        for number, broken in enumerate(self.personas.broken):
            line = Text.assemble(
                ("⚠ ", "red"), (broken.path.name, "bold red"), "\n  ", (str(broken.errors[0]), "red")
            )
            options.append(Option(line, id=f"broken-{number}"))
        return options

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        option_list.focus()
        if self.current:
            try:
                option_list.highlighted = option_list.get_option_index(self.current)
            except OptionDoesNotExist:  # the current persona may be gone: start at the top
                option_list.highlighted = 0
        self._preview(option_list.highlighted)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._preview(event.option_index)

    def _preview(self, index: int | None) -> None:
        preview = self.query_one("#persona-preview", Static)
        persona = self._persona_at(index)
        if persona is None:
            broken = self._broken_at(index)
            if broken is not None:
                item = self.personas.broken[broken]
                errors = "\n".join(str(e) for e in item.errors)
                preview.update(Text(f"{item.path}\n\n{errors}\n\nPress e to open it and fix it.", "red"))
            else:
                preview.update("")
            return
        template_said = (
            "this persona's template file decides"
            if persona.chat_template_file
            else "the model's own template decides"
        )
        system = persona.system or f"(no system message: the model's training and {template_said})"
        parts = [
            Text(persona.name, "bold"),
            Text(persona.description, "italic"),
            Text(f"\nSystem message{' (hidden from the chat)' if persona.system else ''}:", "bold"),
            Text(system),
        ]
        if persona.sampling:
            settings = ", ".join(f"{k} = {v}" for k, v in persona.sampling.items())
            parts.append(Text(f"\nSampling: {settings}", "dim"))
        if persona.chat_template_file:
            shown = persona.chat_template_file
            if persona.path is not None and shown.parent == persona.path.parent:
                shown = Path(shown.name)  # as the persona file names it
            parts.append(Text(f"Chat template: {shown} (replaces the model's own)", "dim"))
        if persona.template:
            values = ", ".join(f"{k} = {v!r}" for k, v in persona.template.items())
            parts.append(Text(f"Template variables: {values}", "dim"))
        if persona.model:
            parts.append(Text(f"Preferred model: {persona.model}", "dim"))
        where = "bundled" if persona.origin == "bundled" else "your persona folder"
        parts.append(Text(f"\n{persona.path.name if persona.path else ''} ({where})", "dim"))
        preview.update(Text("\n").join(parts))

    def _persona_at(self, index: int | None) -> Persona | None:
        if index is None:
            return None
        option = self.query_one(OptionList).get_option_at_index(index)
        return self.personas.get(option.id or "")

    def _broken_at(self, index: int | None) -> int | None:
        if index is None:
            return None
        option_id = self.query_one(OptionList).get_option_at_index(index).id or ""
        return int(option_id.removeprefix("broken-")) if option_id.startswith("broken-") else None

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        persona = self.personas.get(event.option.id or "")
        if persona is None:
            self.notify("This file is broken: press e to fix it.", severity="warning")
            return
        problem = self.unusable(persona)
        if problem:
            self.notify(f"Cannot use {persona.name}: {problem}", severity="warning", markup=False)
            return
        self.dismiss(PickerChoice("use", persona.id, persona.path))

    def action_choose(self, action: str) -> None:
        index = self.query_one(OptionList).highlighted
        persona = self._persona_at(index)
        if persona is not None:
            self.dismiss(PickerChoice(action, persona.id, persona.path))
            return
        broken = self._broken_at(index)
        if broken is not None and action == "edit":
            item = self.personas.broken[broken]
            self.dismiss(PickerChoice("edit", item.id, item.path))

    def action_new(self) -> None:
        self.dismiss(PickerChoice("new"))
