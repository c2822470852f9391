"""A model's details read from its GGUF header (no weights loaded), and its load settings."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.core.models import gguf
from tui.core.models.catalog import CatalogEntry
from tui.core.settings.limits import RANGES
from tui.core.text_safety import same_length_visible
from tui.ui.actions import bindings


def header_text(entry: CatalogEntry, path: Path) -> Text:
    lines = [Text(entry.name, "bold"), Text(entry.description, "italic"), Text("")]
    for key in ("repo", "file", "params", "quant", "license"):
        value = getattr(entry, key)
        if value:
            lines.append(Text(f"{key}: {value}"))
    if not path.is_file():
        lines.append(Text("\nNot on this machine: the header is read once it is downloaded.", "dim"))
        return Text("\n").join(lines)
    try:
        meta = gguf.read_metadata(path)
        specials = gguf.special_tokens(path)
    except gguf.GGUFError as exc:
        lines.append(Text(f"\n{exc}", "red"))
        return Text("\n").join(lines)
    lines += [
        Text(f"\narchitecture: {gguf.architecture(meta)}"),
        Text(f"trained context: {gguf.trained_context(meta)} tokens"),
        Text(f"layers: {gguf.block_count(meta)}"),
        Text("special tokens: " + ", ".join(f"{n} {i} {t!r}" for n, (i, t) in specials.items())),
        Text("\nchat template:", "bold"),
    ]
    template = meta.get("tokenizer.chat_template")
    shown = same_length_visible(template) if isinstance(template, str) else None
    lines.append(Text(shown or "(none: llm-tui falls back to ChatML)"))
    return Text("\n").join(lines)


class ModelDetails(ModalScreen[None]):
    BINDINGS = bindings("details")

    def __init__(self, entry: CatalogEntry, path: Path) -> None:
        super().__init__(classes="picker")
        self.entry, self.path = entry, path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                f"{self.entry.id}: read from the GGUF header, without loading the weights", classes="title"
            )
            with VerticalScroll():
                yield Static(header_text(self.entry, self.path))
            yield Label("escape close", classes="hint")


class ModelSettings(ModalScreen[dict[str, int] | None]):
    """Context length, threads and GPU layers for one model; empty means "choose for me"."""

    BINDINGS = bindings("dialog")

    def action_cancel(self) -> None:
        self.dismiss(None)

    FIELDS = (
        ("n_ctx", "Context length (tokens)"),
        ("n_threads", "CPU threads"),
        ("n_gpu_layers", "GPU layers (-1: all)"),
    )

    def __init__(self, model_id: str, current: dict[str, int]) -> None:
        super().__init__(classes="dialog")
        self.model_id, self.current = model_id, current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Load settings for {self.model_id} (empty: llm-tui chooses)", classes="question")
            for key, label in self.FIELDS:
                yield Label(label)
                yield Input(str(self.current.get(key, "")), id=key, type="integer")
            yield Label("", id="problem", classes="problem")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        values: dict[str, int] = {}
        for key, label in self.FIELDS:
            raw = self.query_one(f"#{key}", Input).value.strip()
            if not raw:
                continue
            try:
                number = int(raw)
            except ValueError:
                number = None
            problem = RANGES[key].check(number)
            if number is None or problem:
                self.query_one("#problem", Label).update(
                    Text(f"{label}: {problem or 'must be a whole number'}")
                )
                return
            values[key] = number
        self.dismiss(values)
