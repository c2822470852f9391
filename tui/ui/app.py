"""The Textual app: builds the screens from one config; the CLI and the tests share this factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from textual.app import App
from textual.binding import Binding

from tui.core.sampling import Sampling
from tui.core.session import ChatEngine
from tui.ui.screens.chat import ChatScreen


@dataclass
class AppConfig:
    model: str | None = None
    system: str | None = None
    n_ctx: int | None = None
    n_threads: int | None = None
    n_gpu_layers: int | None = None
    sampling: Sampling = field(default_factory=Sampling)
    engine_factory: Callable[[], ChatEngine] | None = None
    """Tests may pass their own; by default the real engine loads ``model``."""


class LlmTuiApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "llm-tui"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(self, config: AppConfig) -> None:
        super().__init__()
        self.config = config

    def on_mount(self) -> None:
        factory = self.config.engine_factory or (lambda: load_engine(self.config))
        self.push_screen(ChatScreen(factory, self.config.system, self.config.sampling))


def load_engine(config: AppConfig) -> ChatEngine:
    """Resolve the model and load it (runs in a worker thread)."""
    from tui.core.catalog import resolve_model
    from tui.core.engine import Engine, LoadOptions
    from tui.paths import get_paths

    model = resolve_model(config.model, get_paths())
    options = LoadOptions(config.n_ctx, config.n_threads, config.n_gpu_layers)
    return Engine(model.path, options, name=model.label)


def create_app(config: AppConfig | None = None) -> LlmTuiApp:
    return LlmTuiApp(config or AppConfig())
