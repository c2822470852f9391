"""Open a model in this process the one way both the CLI and the TUI do: the model named (or the
default), its settings merged by `tui.core.settings.engine.load_options`, its catalog template."""

from __future__ import annotations

import contextlib
from dataclasses import replace

from tui.core.engine.llama import Engine, quiet_python_output
from tui.core.engine.values import LoadOptions
from tui.core.models.catalog import resolve_model, template_file_of
from tui.core.settings.engine import load_options
from tui.paths import get_paths


def open_local(model: str | None, flags: LoadOptions, quiet: bool = False) -> Engine:
    """Load ``model`` (a catalog id, a path, or None for the default) with ``flags`` over the saved
    and configured settings; ``quiet`` swallows llama-cpp-python's prints (the CLI; the TUI
    captures them itself). Problems in the settings file become the engine's load warnings."""
    paths = get_paths()
    resolved = resolve_model(model, paths)
    options, problems = load_options(flags, resolved.entry.id if resolved.entry else None, paths)
    with quiet_python_output() if quiet else contextlib.nullcontext():
        engine = Engine(resolved.path, options, name=resolved.label)
    said = ([resolved.note] if resolved.note else []) + list(problems)
    if said:
        engine.info = replace(engine.info, warnings=(*said, *engine.info.warnings))
    own_template = template_file_of(resolved.entry, paths) if resolved.entry else None
    if own_template is not None:
        engine.adopt_template_file(own_template)  # the catalog entry's: its own from now on
    return engine
