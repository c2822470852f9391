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
from tui.core.problems import Problem, toml_problem
from tui.core.safe_read import UnreadableFile, read_text_bounded
from tui.core.settings.limits import LOAD_CHECKS, LOAD_KEYS
from tui.paths import Paths

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

HEADER = "# Written by llm-tui (default model, theme, per-model settings). Yours go in config.toml.\n"
MODEL_KEYS = LOAD_KEYS
SettingValue = int | str | bool


@dataclass
class AppState:
    default_model: str | None = None
    models: dict[str, dict[str, SettingValue]] = field(default_factory=dict)
    theme: str | None = None
    problem: Problem | None = None
    """Why the file (or part of it) could not be used, if it could not."""


def state_file(paths: Paths) -> Path:
    return paths.config / "state.toml"


def load_state(paths: Paths) -> AppState:
    path = state_file(paths)
    try:
        data = tomllib.loads(read_text_bounded(path))
    except FileNotFoundError:
        return AppState()
    except OSError as exc:
        reason = exc.reason if isinstance(exc, UnreadableFile) else (exc.strerror or str(exc))
        return AppState(problem=Problem(str(path), f"{reason}; ignored, defaults used", hint=_REWRITE))
    except tomllib.TOMLDecodeError as exc:
        return AppState(problem=toml_problem(path, exc, "; ignored, defaults used"))
    state = AppState()
    default = data.get("default_model")
    state.default_model = default if isinstance(default, str) else None
    theme = data.get("theme")
    state.theme = theme if isinstance(theme, str) else None
    models = data.get("models", {})
    if isinstance(models, dict):
        for model_id, values in models.items():
            if isinstance(values, dict):
                kept = {k: v for k, v in values.items() if k in MODEL_KEYS and not LOAD_CHECKS[k].check(v)}
                for key in sorted(set(values) - set(kept)):
                    state.problem = Problem(
                        str(path), f"[models.{model_id}] `{key}` ignored: {_why(key, values[key])}"
                    )
                state.models[str(model_id)] = kept
    return state


_REWRITE = "llm-tui rewrites it the next time a setting changes"


def _why(key: str, value: object) -> str:
    if key not in MODEL_KEYS:
        return f"not a setting (known: {', '.join(MODEL_KEYS)})"
    return LOAD_CHECKS[key].check(value) or "invalid"


def save_state(paths: Paths, state: AppState) -> None:
    data: dict[str, Any] = {}
    if state.default_model:
        data["default_model"] = state.default_model
    if state.theme:
        data["theme"] = state.theme
    if state.models:
        data["models"] = {k: v for k, v in state.models.items() if v}
    write_text_atomic(state_file(paths), HEADER + tomli_w.dumps(data))
