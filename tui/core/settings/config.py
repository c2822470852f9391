"""The user's own settings file, ``config.toml``: read, never written by llm-tui.

It holds ``[keymap]``: binding ids mapped to keys, e.g. ``"chat.new_session" = "ctrl+b"``, and
``[server]``: a llama-server to use instead of loading models here (see tui.core.settings.server), and
``[engine]``: how models are loaded here (see tui.core.settings.engine).
Problems are reported with the file, key and what was expected, and never stop the app. Whether a
key name exists is for the UI to say (it knows the terminal's keys); this file checks the shape.
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field

from tui.core.problems import Problem, toml_problem
from tui.core.safe_read import UnreadableFile, read_text_bounded
from tui.paths import Paths

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

SECTIONS = ("keymap", "server", "engine")


@dataclass
class UserConfig:
    keymap: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def read_config(paths: Paths) -> tuple[dict[str, object], list[Problem]]:
    """The file's tables, or nothing and why (a missing file is no problem)."""
    path = paths.config_file
    source = str(path)
    try:
        return tomllib.loads(read_text_bounded(path)), []
    except FileNotFoundError:
        return {}, []
    except UnreadableFile as exc:
        return {}, [Problem(source, f"{exc.reason}; the file is ignored", line=exc.line)]
    except OSError as exc:
        return {}, [Problem(source, f"cannot be read ({exc.strerror or exc}); the file is ignored")]
    except tomllib.TOMLDecodeError as exc:
        return {}, [toml_problem(path, exc, "; the file is ignored until it is fixed")]


def load_config(paths: Paths, binding_ids: set[str]) -> UserConfig:
    """``config.toml``, checked against the binding ids the app knows."""
    source = str(paths.config_file)
    data, problems = read_config(paths)
    config = UserConfig(problems=problems)
    for key in data:
        if key not in SECTIONS:
            near = difflib.get_close_matches(key, SECTIONS, n=1)
            known = f"did you mean `{near[0]}`?" if near else f"known: {', '.join(SECTIONS)}"
            config.problems.append(Problem(source, f"unknown section `{key}`", key=key, hint=known))
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict):
        config.problems.append(
            Problem(source, '`keymap` must be a table of binding id = "keys"', key="keymap")
        )
        return config
    for binding_id, keys in keymap.items():
        if binding_id not in binding_ids:
            near = difflib.get_close_matches(binding_id, binding_ids, n=1)
            hint = f"did you mean `{near[0]}`?" if near else None
            config.problems.append(
                Problem(
                    source, f"unknown binding `{binding_id}`", entry="[keymap]", key=binding_id, hint=hint
                )
            )
        elif not isinstance(keys, str) or not keys.strip():
            config.problems.append(
                Problem(
                    source,
                    f'`{binding_id}` must be keys as a string, e.g. "ctrl+b"',
                    entry="[keymap]",
                    key=binding_id,
                )
            )
        else:
            config.keymap[binding_id] = keys.strip()
    return config
