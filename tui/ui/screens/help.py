"""f1: the keys, and in a few lines what a persona, the hidden prompt and a session are."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Markdown

IDEAS = """\
**A model has no self and no memory.** What it says about who it is comes from its training, or
from a hidden *system message* put in front of your words.

- **Persona**: that hidden system message, plus the sampling settings that go with it. Pick one
  with `f3`; they are TOML files you can edit here or in your own editor.
- **The hidden prompt**: what the model really receives is one long text: the chat template's
  markers, the system message (or the template's own default), and the whole conversation so far,
  re-sent on every turn. `llm-tui prompt "…"` prints it exactly.
- **Session**: a conversation. The model keeps nothing between turns or sessions; `ctrl+n` starts
  a new one, and the model starts from nothing. Saved transcripts (`f5`) are for you only.
"""


def _keys_table(screen: Screen[Any]) -> str:
    """The keys as they are now (after any `[keymap]` in config.toml), for the screen below."""
    rows = ["| key | does |", "|---|---|"]
    for key, active in screen.active_bindings.items():
        if active.node in (screen, screen.app) and active.binding.description:
            rows.append(f"| `{key}` | {active.binding.description} |")
    rows += [
        "| `enter` | send the message |",
        "| `shift+enter`, `ctrl+j` | new line in the message |",
        "| `tab`, then `c` / `k` | copy a message / its code block |",
        "| `ctrl+p` | every action, searchable |",
    ]
    return "\n".join(rows)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss(None)", "Close")]

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__(classes="picker")
        self.under = under

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("llm-tui: help", classes="title")
            with VerticalScroll():
                yield Markdown(IDEAS + "\n### Keys\n\n" + _keys_table(self.under))
            yield Label("escape close", classes="hint")
