"""The user's own settings file, ``config.toml``: read, never written by llm-tui.

Today it holds ``[keymap]``: binding ids mapped to keys, e.g. ``"chat.new_session" = "ctrl+t"``.
Problems are reported with the file, key and what was expected, and never stop the app.
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field

from tui.paths import Paths

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

SECTIONS = ("keymap",)


@dataclass
class UserConfig:
    keymap: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def load_config(paths: Paths, binding_ids: set[str]) -> UserConfig:
    """``config.toml``, checked against the binding ids the app knows."""
    path = paths.config_file
    config = UserConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return config
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        config.problems.append(f"{path}: ignored, cannot be read as TOML ({exc})")
        return config
    for key in data:
        if key not in SECTIONS:
            near = difflib.get_close_matches(key, SECTIONS, n=1)
            hint = f"; did you mean `{near[0]}`?" if near else f"; known: {', '.join(SECTIONS)}"
            config.problems.append(f"{path}: unknown section `{key}`{hint}")
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict):
        config.problems.append(f'{path}: `keymap` must be a table of binding id = "keys"')
        return config
    for binding_id, keys in keymap.items():
        if binding_id not in binding_ids:
            near = difflib.get_close_matches(binding_id, binding_ids, n=1)
            hint = f"; did you mean `{near[0]}`?" if near else ""
            config.problems.append(f"{path}: [keymap] unknown binding `{binding_id}`{hint}")
        elif not isinstance(keys, str) or not keys.strip():
            config.problems.append(f'{path}: [keymap] `{binding_id}` must be keys as a string, e.g. "ctrl+t"')
        else:
            config.keymap[binding_id] = keys.strip()
    return config
