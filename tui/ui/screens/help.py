"""f1: the keys, and in a few lines what a persona, the hidden prompt and a session are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Markdown

from tui.ui.actions import bindings, keys_now

if TYPE_CHECKING:
    from tui.ui.hosts import AppHost

IDEAS = """\
**A model has no self and no memory.** What it says about who it is comes from its training, or
from a hidden *system message* put in front of your words.

- **Persona**: that hidden system message, plus the sampling settings that go with it. Pick one
  with `f3`; they are TOML files you can edit here or in your own editor.
- **The hidden prompt**: what the model really receives is one long text: the chat template's
  markers, the system message (or the template's own default), and the whole conversation so far,
  re-sent on every turn. `llm-tui prompt "…"` prints it exactly.
- **Session**: a conversation. The model keeps nothing between turns or sessions; `ctrl+n` starts
  a new one, and the model starts from nothing. Saved transcripts (`f5`) are for you only;
  reopening one sends its messages again as text, in a new session.
- **Branches**: a reply is one sample among many. Regenerating or editing keeps the old turn as a
  sibling (`‹ 2/3 ›`, `alt+←`/`alt+→` on a focused message); only the path on the screen is ever
  sent to the model.
"""


def _keys_table(keymap: Mapping[str, str]) -> str:
    """Every key of llm-tui as bound now (after any `[keymap]` in config.toml), from the registry."""
    rows: list[str] = []
    scope = ""
    for title, keys, description, binding_id in keys_now(keymap):
        if title != scope:
            scope = title
            rows += ["", f"**{title}**", "", "| key | does | `[keymap]` id |", "|---|---|---|"]
        shown = ", ".join(f"`{shown_key(k.strip())}`" for k in keys.split(","))
        rows.append(f"| {shown} | {description} | `{binding_id}` |")
    rows += [
        "",
        "The message box (Textual's text editor): `enter` sends, `shift+enter` or `ctrl+j` starts a new "
        "line; `ctrl+p` opens Textual's command palette with every action above. To change a key, put "
        'its id in `[keymap]` in config.toml (`llm-tui paths` shows where): `"chat.inspector" = "f6"`.',
    ]
    return "\n".join(rows)


def shown_key(key: str) -> str:
    """A key as a person reads it: ``[`` for Textual's ``left_square_bracket``, modifiers kept."""
    from textual.keys import key_to_character

    *modifiers, name = key.split("+")
    character = key_to_character(name) if len(name) > 1 else None
    if character is not None and len(character) == 1 and character.isprintable() and not character.isspace():
        name = character
    return "+".join([*modifiers, name])


class HelpScreen(ModalScreen[None]):
    BINDINGS = bindings("help")

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__(classes="picker")
        self.under = under

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("llm-tui: help", classes="title")
            with VerticalScroll():
                keymap = cast("AppHost", self.app).keymap  # what set_keymap applied from config.toml
                yield Markdown(IDEAS + "\n### Keys\n" + _keys_table(keymap))
            yield Label("escape close", classes="hint")
