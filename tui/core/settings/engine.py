"""How a model is loaded, from three places merged in one step: flags, then the model's own saved
settings (``state.toml``), then ``[engine]`` in ``config.toml``; what none of them says is
llama.cpp's own programs' choice (`tui.core.engine.values.LLAMA_CPP_DEFAULTS`).

The CLI and the TUI both load through `load_options`, so a setting means the same in both.
"""

from __future__ import annotations

import difflib
from dataclasses import fields

from tui.core.engine.values import LoadOptions
from tui.core.problems import Problem
from tui.core.settings.config import read_config
from tui.core.settings.limits import LOAD_CHECKS, LOAD_KEYS
from tui.core.settings.state import load_state
from tui.paths import Paths


def configured(paths: Paths) -> tuple[LoadOptions, list[Problem]]:
    """``[engine]`` in ``config.toml``: every valid key, and a problem for each other one."""
    data, _ = read_config(paths)  # an unreadable file is said once, by the keymap's reader
    problems: list[Problem] = []
    table = data.get("engine", {})
    source = str(paths.config_file)
    if not isinstance(table, dict):
        return LoadOptions(), [Problem(source, "`engine` must be a table of settings", key="engine")]
    values: dict[str, object] = {}
    for key, value in table.items():
        if key not in LOAD_CHECKS:
            near = difflib.get_close_matches(key, LOAD_KEYS, n=1)
            hint = f"did you mean `{near[0]}`?" if near else f"known: {', '.join(LOAD_KEYS)}"
            problems.append(Problem(source, f"unknown setting `{key}`", entry="[engine]", key=key, hint=hint))
            continue
        problem = LOAD_CHECKS[key].check(value)
        if problem:
            problems.append(Problem(source, f"`{key}` {problem}; ignored", entry="[engine]", key=key))
            continue
        values[key] = value
    return LoadOptions(**values), problems  # type: ignore[arg-type]


def saved(paths: Paths, model_id: str | None) -> LoadOptions:
    """The settings saved for one catalog model from the model browser (already checked on reading)."""
    if model_id is None:
        return LoadOptions()
    kept = load_state(paths).models.get(model_id, {})
    names = {field.name for field in fields(LoadOptions)}
    return LoadOptions(**{key: value for key, value in kept.items() if key in names})  # type: ignore[arg-type]


def load_options(flags: LoadOptions, model_id: str | None, paths: Paths) -> tuple[LoadOptions, list[str]]:
    """Flags over the model's saved settings over ``[engine]``; and what was wrong in the file, said
    once when the model loads (never a reason not to start)."""
    base, problems = configured(paths)
    options = flags.merged(saved(paths, model_id).merged(base))
    return options, [str(problem) for problem in problems]
