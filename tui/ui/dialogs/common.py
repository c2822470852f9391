"""Small modal questions: confirm, ask for an id, choose between versions of a file."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from tui.ui.actions import bindings


class Confirm(ModalScreen[bool]):
    BINDINGS = bindings("dialog")

    def action_cancel(self) -> None:
        self.dismiss(False)

    def __init__(self, question: str, yes: str = "Yes", no: str = "Cancel") -> None:
        super().__init__(classes="dialog")
        self._question, self._yes, self._no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self._question), classes="question")
            with Horizontal(classes="buttons"):
                yield Button(self._yes, id="yes", variant="error")
                yield Button(self._no, id="no")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class Choose(ModalScreen[str]):
    """A question with several named answers; escape answers ``cancel``."""

    BINDINGS = bindings("dialog")

    def action_cancel(self) -> None:
        self.dismiss("cancel")

    def __init__(self, question: str, choices: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog")
        self._question, self._choices = question, choices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self._question), classes="question")
            with Horizontal(classes="buttons"):
                for key, label in self._choices:
                    yield Button(label, id=key)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")


class AskText(ModalScreen[str | None]):
    """One line of text (a new persona id, say), checked before it is accepted."""

    BINDINGS = bindings("dialog")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def __init__(
        self, question: str, value: str = "", check: Callable[[str], str | None] | None = None
    ) -> None:
        super().__init__(classes="dialog")
        self._question, self._value = question, value
        self._check = check

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self._question), classes="question")
            yield Input(self._value, id="answer")
            yield Label("", id="problem", classes="problem")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        answer = event.value.strip()
        problem = self._check(answer) if self._check is not None else None
        if problem:
            self.query_one("#problem", Label).update(Text(str(problem)))
            return
        self.dismiss(answer or None)
