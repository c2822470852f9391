"""Every key binding of llm-tui in one place: an id, the default keys, the action, what it does.

Screens and widgets take their ``BINDINGS`` from here (`bindings`), `config.toml`'s ``[keymap]`` may
rebind any id, and the help screen lists the keys from here as they are bound now. Textual's own
keys (``ctrl+p``, the text editor's) stay as Textual defines them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from textual.binding import Binding, BindingType


class Action(NamedTuple):
    id: str
    """``scope.name``: the scope is the screen or widget that owns the binding."""
    keys: str
    action: str
    description: str
    show: bool = True
    """Shown in the footer (Textual's default too)."""
    priority: bool = False


ACTIONS: tuple[Action, ...] = (
    Action("app.quit", "ctrl+q", "quit", "Quit", priority=True),
    Action("chat.help", "f1", "help", "Help"),
    Action("chat.inspector", "f2", "inspector", "Hidden prompt"),
    Action("chat.stop", "escape", "stop", "Stop reply"),
    Action("chat.new_session", "ctrl+n", "new_session", "New session"),
    Action("chat.personas", "f3", "personas", "Personas"),
    Action("chat.models", "f4", "models", "Models"),
    Action("chat.sessions", "f5", "sessions", "Saved sessions", show=False),
    Action("chat.confidence", "f8", "confidence", "Token confidence", show=False),
    Action("chat.show_thinking", "f9", "show_thinking", "Show or hide thinking", show=False),
    Action("chat.enable_thinking", "ctrl+t", "enable_thinking", "Thinking on or off (next turn)", show=False),
    Action("chat.regenerate", "ctrl+r", "regenerate", "Regenerate"),
    Action("chat.edit_last", "ctrl+l", "edit_last", "Edit last message (a new branch)", show=False),
    Action("chat.copy_reply", "ctrl+o", "copy_reply", "Copy reply", show=False),
    Action("chat.copy_code", "ctrl+g", "copy_code", "Copy code", show=False),
    Action("message.copy", "c", "copy", "Copy message"),
    Action("message.copy_code", "k", "copy_code", "Copy code"),
    Action("message.edit", "e", "edit", "Edit"),
    Action("message.regenerate", "r", "regenerate", "Regenerate"),
    Action("message.previous_branch", "alt+left", "branch(-1)", "Previous branch"),
    Action("message.next_branch", "alt+right", "branch(1)", "Next branch"),
    Action("confidence.previous", "left", "move(-1)", "Previous token"),
    Action("confidence.next", "right", "move(1)", "Next token"),
    Action("confidence.up", "up", "alternative(-1)", "Previous runner-up"),
    Action("confidence.down", "down", "alternative(1)", "Next runner-up"),
    Action("confidence.continue", "enter", "continue_here", "Continue from this runner-up"),
    Action("inspector.tokens", "t", "flip('tokens')", "Token boundaries"),
    Action("inspector.ids", "i", "flip('ids')", "Token ids"),
    Action("inspector.diff", "d", "flip('diff')", "Diff with previous turn"),
    Action("inspector.earlier", "left_square_bracket", "move(-1)", "Earlier turn"),
    Action("inspector.later", "right_square_bracket", "move(1)", "Later turn"),
    Action("inspector.copy_text", "c", "copy('text')", "Copy prompt"),
    Action("inspector.copy_json", "j", "copy('json')", "Copy as JSON"),
    Action("models.use", "enter", "use", "Use model"),
    Action("models.download", "p", "download", "Download"),
    Action("models.cancel", "c", "cancel", "Cancel download"),
    Action("models.delete", "x", "delete", "Delete…"),
    Action("models.set_default", "f", "set_default", "Set default"),
    Action("models.details", "i", "details", "Details"),
    Action("models.settings", "s", "settings", "Load settings"),
    Action("models.close", "escape", "close", "Close"),
    Action("personas.close", "escape", "dismiss(None)", "Close"),
    Action("personas.edit", "e", "choose('edit')", "Edit"),
    Action("personas.duplicate", "d", "choose('duplicate')", "Duplicate"),
    Action("personas.new", "n", "new", "New…"),
    Action("personas.teach", "t", "choose('teach')", "Teach into the model…"),
    Action("persona_editor.save", "ctrl+s", "save", "Save"),
    Action("persona_editor.save_as_new", "ctrl+n", "save_as_new", "Save as new…"),
    Action("persona_editor.external_editor", "ctrl+o", "external_editor", "Open in $EDITOR"),
    Action("persona_editor.remove", "ctrl+r", "remove", "Delete / reset…"),
    Action("persona_editor.close", "escape", "close", "Close", priority=True),
    Action("sessions.reopen", "o", "reopen", "Reopen and go on"),
    Action("sessions.tree", "t", "tree", "Every branch / the current path"),
    Action("sessions.export_md", "m", "export('md')", "Export Markdown"),
    Action("sessions.export_json", "j", "export('json')", "Export JSON"),
    Action("sessions.close", "escape", "close", "Close"),
    Action("experiments.close", "escape", "close", "Close"),
    Action("teach.start", "enter", "start", "Start teaching"),
    Action("teach.compare", "p", "compare", "Compare the three"),
    Action("teach.close", "escape", "close", "Stop / close"),
    Action("help.close", "escape,f1,q", "dismiss(None)", "Close"),
    Action("details.close", "escape", "dismiss(None)", "Close"),
    Action("dialog.cancel", "escape", "cancel", "Cancel"),
    Action("reply_editor.continue", "ctrl+s", "done", "Continue from the edit"),
    Action("reply_editor.cancel", "escape", "cancel", "Cancel", priority=True),
)
"""In the order the help screen lists them, scope by scope."""

SCOPES = {
    "app": "Everywhere",
    "chat": "Chat",
    "message": "A focused message (tab to it)",
    "confidence": "Token confidence under a reply (tab to it)",
    "inspector": "The hidden prompt inspector (tab to it)",
    "models": "Model browser (f4)",
    "personas": "Persona picker (f3)",
    "persona_editor": "Persona editor",
    "sessions": "Saved sessions (f5)",
    "experiments": "Identity probe and memory test",
    "teach": "Teaching a persona into the weights (persona picker: t)",
    "help": "Help",
    "details": "Model details",
    "dialog": "Questions and forms",
    "reply_editor": "Editing a reply",
}


def bindings(scope: str) -> list[BindingType]:
    """The Textual bindings of one scope, with their ids (so ``[keymap]`` can rebind them)."""
    return [
        Binding(a.keys, a.action, a.description, show=a.show, priority=a.priority, id=a.id)
        for a in ACTIONS
        if a.id.split(".")[0] == scope
    ]


def binding_ids() -> set[str]:
    """Every id a ``[keymap]`` in config.toml may rebind."""
    return {a.id for a in ACTIONS}


def keys_now(keymap: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """(scope title, keys as bound now, description, binding id) for every action, for the help
    screen (the id is what a ``[keymap]`` line in config.toml names)."""
    return [(SCOPES[a.id.split(".")[0]], keymap.get(a.id, a.keys), a.description, a.id) for a in ACTIONS]
