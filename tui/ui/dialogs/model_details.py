"""A model's details read from its GGUF header (no weights loaded), and its load settings."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.core.engine.values import LLAMA_CPP_DEFAULTS, EngineInfo, LoadOptions
from tui.core.models import gguf
from tui.core.models.catalog import CatalogEntry
from tui.core.settings.engine import load_options
from tui.core.settings.limits import LOAD_CHECKS, LOAD_KEYS, RANGES
from tui.core.settings.state import SettingValue
from tui.core.teach import provenance
from tui.core.text_safety import same_length_visible
from tui.paths import get_paths
from tui.ui.actions import bindings


def load_lines(entry: CatalogEntry, running: EngineInfo | None) -> list[Text]:
    """How the model loads: as it runs now (read back from llama.cpp) when it is the loaded one,
    else the settings it will load with (saved, then config.toml [engine], then llama.cpp's)."""
    if running is not None and running.runtime is not None:
        lines = [Text("\nrunning now (as llama.cpp reports it):", "bold")]
        threads = f"{running.n_threads}" + (
            ", following the free cores" if running.runtime.threads_auto else ""
        )
        lines.append(Text(f"threads: {threads}; context: {running.n_ctx}; device: {running.device}"))
        return lines + [Text(f"{label}: {value}") for label, value in running.runtime.rows()]
    options, problems = load_options(LoadOptions(), entry.id, get_paths())
    lines = [Text("\nloads with (saved, config.toml [engine], else llama.cpp's default):", "bold")]
    for key in LOAD_KEYS:
        value = getattr(options, key)
        if value is None:
            default = LLAMA_CPP_DEFAULTS.get(key)
            shown = "auto" if default is None else f"{str(default).lower()} (llama.cpp's default)"
        else:
            shown = str(value).lower() if isinstance(value, bool) else str(value)
        lines.append(Text(f"{key}: {shown}"))
    return lines + [Text(problem, "red") for problem in problems]


def header_text(entry: CatalogEntry, path: Path, running: EngineInfo | None = None) -> Text:
    lines = [Text(entry.name, "bold"), Text(entry.description, "italic"), Text("")]
    for key in ("repo", "file", "params", "quant", "license"):
        value = getattr(entry, key)
        if value:
            lines.append(Text(f"{key}: {value}"))
    lines += load_lines(entry, running)
    if not path.is_file():
        lines.append(Text("\nNot on this machine: the header is read once it is downloaded.", "dim"))
        return Text("\n").join(lines)
    try:
        meta = gguf.read_metadata(path)
        specials = gguf.special_tokens(path)
    except gguf.GGUFError as exc:
        lines.append(Text(f"\n{exc}", "red"))
        return Text("\n").join(lines)
    made = provenance.read(meta)
    if made is not None:
        lines.append(Text("\ntaught by llm-tui (its identity is in its weights):", "bold"))
        lines += [Text(f"{label}: {value}") for label, value in made.rows()]
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

    def __init__(self, entry: CatalogEntry, path: Path, running: EngineInfo | None = None) -> None:
        """``running``: the engine's info when this is the model loaded now."""
        super().__init__(classes="picker")
        self.entry, self.path, self.running = entry, path, running

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                f"{self.entry.id}: read from the GGUF header, without loading the weights", classes="title"
            )
            with VerticalScroll():
                yield Static(header_text(self.entry, self.path, self.running))
            yield Label("escape close", classes="hint")


class ModelSettings(ModalScreen[dict[str, SettingValue] | None]):
    """How one model loads (context, threads, GPU layers, llama.cpp's own settings); empty means
    "as configured in config.toml [engine], else llama.cpp's default"."""

    BINDINGS = bindings("dialog")

    def action_cancel(self) -> None:
        self.dismiss(None)

    FIELDS = (
        ("n_ctx", "Context length (tokens)"),
        ("n_threads", "CPU threads (empty: the cores other work leaves free)"),
        ("n_threads_batch", "Prompt threads (empty: as CPU threads)"),
        ("n_gpu_layers", "GPU layers (-1: all)"),
        ("flash_attn", "Flash attention: auto, on, off (llama.cpp: auto)"),
        ("n_batch", "Batch size (llama.cpp: 2048)"),
        ("n_ubatch", "Micro-batch size (llama.cpp: 512)"),
        ("cache_type_k", "KV cache type for K (llama.cpp: f16)"),
        ("cache_type_v", "KV cache type for V (llama.cpp: f16)"),
        ("mmap", "Memory-map the weights: true, false (llama.cpp: true)"),
        ("repack", "Repack the weights for this CPU: true, false (llama.cpp: true)"),
    )

    def __init__(self, model_id: str, current: dict[str, SettingValue]) -> None:
        super().__init__(classes="dialog")
        self.model_id, self.current = model_id, current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Load settings for {self.model_id} (empty: llm-tui chooses)", classes="question")
            with VerticalScroll():
                for key, label in self.FIELDS:
                    yield Label(label)
                    value = self.current.get(key, "")
                    text = str(value).lower() if isinstance(value, bool) else str(value)
                    yield Input(text, id=key, type="integer" if key in RANGES else "text")
            yield Label("", id="problem", classes="problem")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        values: dict[str, SettingValue] = {}
        for key, label in self.FIELDS:
            raw = self.query_one(f"#{key}", Input).value.strip()
            if not raw:
                continue
            value = _parsed(key, raw)
            problem = LOAD_CHECKS[key].check(value)
            if value is None or problem:
                self.query_one("#problem", Label).update(
                    Text(f"{label}: {problem or LOAD_CHECKS[key].describe()}")
                )
                return
            values[key] = value
        self.dismiss(values)


def _parsed(key: str, raw: str) -> SettingValue | None:
    """What a field's text means: a whole number, true/false, or the word itself."""
    if key in RANGES:
        try:
            return int(raw)
        except ValueError:
            return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    return raw.lower()
