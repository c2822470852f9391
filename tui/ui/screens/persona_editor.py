"""Edit a persona file as text: live validation, save, save as new, $EDITOR, reset or delete.

What is saved is exactly the text in the editor, comments and layout included. A bundled persona
is never written: saving it creates the user's own copy, which then overrides it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TextArea

from tui.core.personas.editor import EditorError, editor_command, exit_message
from tui.core.personas.format import Persona, parse_persona
from tui.core.personas.store import PersonaIdError, PersonaStore
from tui.ui.actions import bindings
from tui.ui.dialogs.common import AskText, Choose, Confirm
from tui.ui.messages import PersonasChanged
from tui.ui.widgets.toml_editor import TomlEditor


class PersonaEditor(Screen[None]):
    BINDINGS = bindings("persona_editor")

    def __init__(self, store: PersonaStore, persona_id: str, source: Path) -> None:
        super().__init__()
        self.store = store
        self.persona_id = persona_id
        self.source = source
        self.saved_text = source.read_text(encoding="utf-8")
        self.errors: list[str] = []
        self._asking = False

    @property
    def target(self) -> Path:
        """Where a save goes: always the user's folder."""
        return self.store.user_path(self.persona_id)

    @property
    def dirty(self) -> bool:
        return self.editor.text != self.saved_text

    @property
    def editor(self) -> TomlEditor:
        return self.query_one(TomlEditor)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(self._where()), id="editor-where")
        yield TomlEditor(self.saved_text, id="persona-text")
        yield Static("", id="editor-status")
        yield Footer()

    def on_mount(self) -> None:
        self.call_after_refresh(setattr, self, "sub_title", f"persona {self.persona_id}")
        self.editor.focus()
        self._validate()

    def _where(self) -> str:
        if self.source != self.target:
            return f"Bundled persona {self.source}: saving writes your own copy to {self.target}"
        return f"Editing {self.target}"

    @on(TextArea.Changed)
    def _changed(self) -> None:
        self._validate()

    def _validate(self) -> None:
        parsed = parse_persona(self.persona_id, self.editor.text, self.target)
        status = self.query_one("#editor-status", Static)
        if isinstance(parsed, Persona):
            self.errors = []
            self.editor.error_line = None
            status.update("✓ valid" + ("  ·  unsaved changes" if self.dirty else ""))
            status.set_classes("ok")
        else:
            self.errors = [str(e) for e in parsed]
            self.editor.error_line = next((e.line for e in parsed if e.line), None)
            status.update(
                Text("\n".join(e.message if not e.line else f"line {e.line}: {e.message}" for e in parsed))
            )
            status.set_classes("error")

    # Saving -----------------------------------------------------------------------------------

    def _disk_text(self, path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    async def action_save(self) -> None:
        on_disk = self._disk_text(self.target)
        expected = self.saved_text if self.source == self.target else None
        if on_disk is not None and on_disk != expected and on_disk != self.editor.text:
            self.app.push_screen(
                Choose(
                    f"{self.target.name} changed on disk since you opened it.",
                    [
                        ("overwrite", "Save mine over it"),
                        ("reload", "Load the disk version"),
                        ("cancel", "Cancel"),
                    ],
                ),
                self._resolve_conflict,
            )
            return
        self._write()

    def _resolve_conflict(self, choice: str | None) -> None:
        if choice == "overwrite":
            self._write()
        elif choice == "reload":
            self.load_from_disk()

    def _write(self) -> None:
        text = self.editor.text
        try:
            self.store.save(self.persona_id, text)
        except OSError as exc:
            # A read-only or full disk: the text stays in the editor, nothing on disk changed.
            reason = exc.strerror or str(exc)
            self.notify(
                f"Could not save {self.target}: {reason}. Your text is still here; the file is unchanged.",
                severity="error",
                timeout=15,
                markup=False,
            )
            return
        self.source, self.saved_text = self.target, text
        self.query_one("#editor-where", Static).update(Text(self._where()))
        self._validate()
        note = "" if not self.errors else " (it has errors: it stays unusable until they are fixed)"
        self.notify(f"Saved {self.target}{note}", markup=False)

    def load_from_disk(self) -> None:
        """Replace the editor's text with the file on disk (the user chose so)."""
        text = self._disk_text(self.target) or self._disk_text(self.source) or ""
        self.source = self.target if self.target.exists() else self.source
        self.saved_text = text
        self.editor.load_text(text)
        self._validate()

    def on_personas_changed(self, _message: PersonasChanged) -> None:
        self.disk_changed()

    def disk_changed(self) -> None:
        """The persona files changed on disk while this editor is open: reload, or ask."""
        on_disk = self._disk_text(self.target)
        if on_disk is None or on_disk == self.saved_text:
            return
        if not self.dirty:
            self.load_from_disk()
            self.notify(f"{self.target.name} changed on disk: reloaded.", markup=False)
            return
        if self._asking:
            return  # one question at a time; the answer reads the disk as it is then
        self._asking = True
        self.app.push_screen(
            Choose(
                f"{self.target.name} changed on disk, and you have unsaved edits here.",
                [
                    ("keep", "Keep my edits"),
                    ("reload", "Load the disk version"),
                    ("overwrite", "Save mine over it"),
                ],
            ),
            self._resolve_outside_change,
        )

    def _resolve_outside_change(self, choice: str | None) -> None:
        self._asking = False
        if choice == "reload":
            self.load_from_disk()
        elif choice == "overwrite":
            self._write()
        # "keep": nothing changes here; saving will ask again, since the disk differs from what we loaded

    def action_save_as_new(self) -> None:
        def check(answer: str) -> str | None:
            try:
                path = self.store.user_path(answer)
            except PersonaIdError as exc:
                return str(exc)
            return f"{path.name} already exists" if path.exists() or self.store.bundled_path(answer) else None

        self.app.push_screen(
            AskText("Save as a new persona with the id:", f"{self.persona_id}-copy", check), self._save_as
        )

    def _save_as(self, new_id: str | None) -> None:
        if not new_id:
            return
        self.persona_id = new_id
        self.source = self.target
        self._write()
        self.sub_title = f"persona {self.persona_id}"

    # Outside editor, delete, close -----------------------------------------------------------------

    def action_external_editor(self) -> None:
        try:
            command = editor_command()
        except EditorError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if self.dirty or self.source != self.target:
            self._write()
        try:
            with self.app.suspend():
                done = subprocess.run([*command, str(self.target)], check=False)
        except SuspendNotSupported:
            self.notify("This terminal cannot hand over to another program.", severity="error")
            return
        except OSError as exc:
            self.notify(
                f"Cannot start the editor `{command[0]}`: {exc.strerror or exc}",
                severity="error",
                markup=False,
            )
            return
        if done.returncode != 0:
            self.notify(exit_message(command[0], done.returncode), severity="warning", markup=False)
        self.load_from_disk()

    def action_remove(self) -> None:
        if not self.target.exists():
            self.notify("Nothing to delete: this persona has no file of yours.", severity="warning")
            return
        bundled = self.store.bundled_path(self.persona_id)
        question = (
            f"Remove your copy {self.target.name} and go back to the bundled version?"
            if bundled
            else f"Delete {self.target}? This cannot be undone."
        )
        self.app.push_screen(Confirm(question, "Reset" if bundled else "Delete"), self._remove)

    def _remove(self, yes: bool | None) -> None:
        if not yes:
            return
        self.store.delete(self.persona_id)
        bundled = self.store.bundled_path(self.persona_id)
        if bundled:
            self.source = bundled
            self.load_from_disk()
            self.query_one("#editor-where", Static).update(Text(self._where()))
            self.notify("Back to the bundled version.")
        else:
            self.notify(f"Deleted {self.persona_id}.", markup=False)
            self.app.pop_screen()

    @work
    async def action_close(self) -> None:
        if self.dirty and not await self.app.push_screen_wait(
            Confirm("Discard your unsaved edits?", "Discard")
        ):
            return
        self.app.pop_screen()
