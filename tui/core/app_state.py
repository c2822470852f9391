"""Settings the app writes for itself: the default model and per-model load settings.

Kept in their own file (``state.toml`` in the config folder) so that llm-tui never rewrites a file
the user wrote by hand. A damaged state file is reported and replaced by defaults, never fatal.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from tui.core.atomic import write_text_atomic
from tui.paths import Paths

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

HEADER = "# Written by llm-tui (default model, theme, per-model settings). Yours go in config.toml.\n"
MODEL_KEYS = ("n_ctx", "n_threads", "n_gpu_layers")


@dataclass
class AppState:
    default_model: str | None = None
    models: dict[str, dict[str, int]] = field(default_factory=dict)
    theme: str | None = None
    problem: str | None = None
    """Why the file could not be used, if it could not."""


def state_file(paths: Paths) -> Path:
    return paths.config / "state.toml"


def load_state(paths: Paths) -> AppState:
    path = state_file(paths)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return AppState()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return AppState(problem=f"{path}: ignored, cannot be read ({exc})")
    state = AppState()
    default = data.get("default_model")
    state.default_model = default if isinstance(default, str) else None
    theme = data.get("theme")
    state.theme = theme if isinstance(theme, str) else None
    models = data.get("models", {})
    if isinstance(models, dict):
        for model_id, values in models.items():
            if isinstance(values, dict):
                kept = {k: v for k, v in values.items() if k in MODEL_KEYS and isinstance(v, int)}
                state.models[str(model_id)] = kept
    return state


def save_state(paths: Paths, state: AppState) -> None:
    data: dict[str, Any] = {}
    if state.default_model:
        data["default_model"] = state.default_model
    if state.theme:
        data["theme"] = state.theme
    if state.models:
        data["models"] = {k: v for k, v in state.models.items() if v}
    write_text_atomic(state_file(paths), HEADER + tomli_w.dumps(data))
