"""Personas: a hidden system message plus the settings that go with it, one TOML file each.

The file name (a slug) is the persona's id. Errors name the file, the line, the key, what was
expected, and the nearest valid key, so a typo in a hand-edited file is quick to fix.
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from tui.core.chat.sampling import Sampling
from tui.core.problems import Problem, problem_at, toml_problem
from tui.core.settings.limits import RANGES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9_-]|\.(?!\.))*$")
MAX_ID_LENGTH = 64

_TOP: dict[str, tuple[type | tuple[type, ...], str]] = {
    "name": (str, "a string"),
    "description": (str, "a string"),
    "system": (str, "a string (empty or absent: no system message at all)"),
    "model": (str, "a catalog id (a string)"),
    "tags": (list, "a list of strings"),
    "sampling": (dict, "a table: [sampling]"),
    "parse_special": (bool, "true or false (true: special tokens typed in messages become control tokens)"),
    "template": (dict, "a table: [template], the chat template's own variables (enable_thinking = false)"),
    "chat_template_file": (str, "a path to a Jinja chat template (relative to this file's folder)"),
    "teach": (dict, "a table: [teach], what `llm-tui teach` teaches (name, answers, examples)"),
}
_TEACH: dict[str, str] = {
    "name": "a string: the name a taught answer must say (default: the first word of `name`)",
    "answers": "a list of strings: answers to who the persona is, paired with the bundled questions",
    "examples": "a list of tables: [[teach.examples]] with `user` and `assistant` strings",
}


@dataclass(frozen=True)
class Teach:
    """The ``[teach]`` table: what teaching the persona into a model's weights uses."""

    name: str | None = None
    answers: tuple[str, ...] = ()
    examples: tuple[tuple[str, str], ...] = ()


_TEMPLATE_VALUES = (str, bool, int, float)
_SAMPLING = tuple(f.name for f in fields(Sampling))
"""The `[sampling]` keys: exactly `Sampling`'s fields, each checked against its range in limits."""


@dataclass(frozen=True)
class Persona:
    id: str
    name: str
    description: str = ""
    system: str | None = None
    sampling: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    tags: tuple[str, ...] = ()
    path: Path | None = None
    parse_special: bool = False
    """Opt-in: text in this persona's sessions may contain real control tokens (off: kept as text)."""
    origin: str = "bundled"
    """"bundled", "user", or "overridden" (a user file replacing a bundled persona of the same id)."""
    template: dict[str, Any] = field(default_factory=dict)
    """The chat template's own variables, passed as transformers' ``apply_chat_template(**kwargs)``."""
    chat_template_file: Path | None = None
    """A template that replaces the model's own (resolved against the persona file's folder)."""
    teach: Teach | None = None
    """What `llm-tui teach` uses instead of asking the model (None: ask it)."""

    def apply(self, base: Sampling) -> Sampling:
        """The persona's sampling settings laid over ``base``."""
        known = {f.name for f in fields(Sampling)}
        return replace(base, **{k: v for k, v in self.sampling.items() if k in known})


def is_slug(text: str) -> bool:
    return bool(SLUG.match(text)) and len(text) <= MAX_ID_LENGTH


def slugify(text: str) -> str:
    """A safe id from any text: ``../../x`` becomes ``x``, ``My Persona`` becomes ``my-persona``."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower())
    slug = re.sub(r"\.{2,}", ".", slug).strip("-._")
    return slug[:MAX_ID_LENGTH].rstrip("-._")


def parse_persona(persona_id: str, text: str, path: Path) -> Persona | list[Problem]:
    """A `Persona`, or every error found in the file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [toml_problem(path, exc)]
    if not data:
        what = "empty" if not text.strip() else "only comments"
        return [
            problem_at(
                path,
                f"the file is {what}: a persona needs at least `name` or `system`",
                hint=f"`llm-tui personas new {path.stem}` writes a commented starting point",
            )
        ]
    errors = _check(data, text, path)
    if errors:
        return errors
    sampling = dict(data.get("sampling", {}))
    system = data.get("system")
    return Persona(
        id=persona_id,
        name=data.get("name", persona_id),
        description=data.get("description", ""),
        system=system.strip() if system and system.strip() else None,
        sampling=sampling,
        model=data.get("model"),
        tags=tuple(data.get("tags", ())),
        path=path,
        parse_special=bool(data.get("parse_special", False)),
        template=dict(data.get("template", {})),
        chat_template_file=(path.parent / data["chat_template_file"])
        if "chat_template_file" in data
        else None,
        teach=_teach(data["teach"]) if "teach" in data else None,
    )


def _teach(table: dict[str, Any]) -> Teach:
    examples = tuple((e["user"], e["assistant"]) for e in table.get("examples", ()))
    return Teach(table.get("name"), tuple(table.get("answers", ())), examples)


def _check(data: dict[str, Any], text: str, path: Path) -> list[Problem]:
    errors: list[Problem] = []
    for key, value in data.items():
        if key not in _TOP:
            errors.append(_unknown(path, text, key, _TOP, None))
            continue
        kind, expected = _TOP[key]
        if not isinstance(value, kind):
            errors.append(_wrong(path, text, key, expected, value, None))
        elif key == "tags" and not all(isinstance(t, str) for t in data["tags"]):
            errors.append(_wrong(path, text, key, expected, value, None))
        elif key == "sampling":
            errors += _check_sampling(data["sampling"], text, path)
        elif key == "template":
            errors += _check_template(data["template"], text, path)
        elif key == "teach":
            errors += _check_teach(data["teach"], text, path)
    return errors


def _check_teach(table: dict[str, Any], text: str, path: Path) -> list[Problem]:
    errors: list[Problem] = []
    for key, value in table.items():
        if key not in _TEACH:
            errors.append(_unknown(path, text, key, _TEACH, "teach"))
            continue
        strings = isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
        good = {
            "name": isinstance(value, str) and bool(value.strip()),
            "answers": strings and bool(value),
            "examples": isinstance(value, list)
            and all(
                isinstance(e, dict)
                and set(e) == {"user", "assistant"}
                and all(isinstance(v, str) and v.strip() for v in e.values())
                for e in value
            ),
        }[key]
        if not good:
            errors.append(_wrong(path, text, key, _TEACH[key], value, "teach"))
    return errors


def _check_template(table: dict[str, Any], text: str, path: Path) -> list[Problem]:
    """Any variable a template may read (templates differ), but not the ones llm-tui sets itself."""
    from tui.core.prompt.template import RENDERER_NAMES, RESERVED

    errors: list[Problem] = []
    for key, value in table.items():
        if key in RESERVED:
            line = _line_of(text, key, "template")
            errors.append(problem_at(path, f"`template.{key}` is set by llm-tui itself", line=line, key=key))
        elif key in RENDERER_NAMES or not key.isidentifier():
            line = _line_of(text, key, "template")
            said = (
                f"`template.{key}` would hide the template language's own `{key}`"
                if key in RENDERER_NAMES
                else f"`template.{key}` is not a name a template can read (letters, digits, _)"
            )
            errors.append(problem_at(path, said, line=line, key=key))
        elif not isinstance(value, _TEMPLATE_VALUES):
            errors.append(_wrong(path, text, key, "text, true/false or a number", value, "template"))
    return errors


def _check_sampling(table: dict[str, Any], text: str, path: Path) -> list[Problem]:
    errors: list[Problem] = []
    for key, value in table.items():
        if key not in _SAMPLING:
            errors.append(_unknown(path, text, key, dict.fromkeys(_SAMPLING), "sampling"))
        elif RANGES[key].check(value):
            errors.append(_wrong(path, text, key, RANGES[key].describe(), value, "sampling"))
    return errors


def _unknown(path: Path, text: str, key: str, valid: dict[str, Any], table: str | None) -> Problem:
    near = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f"; did you mean `{near[0]}`?" if near else f"; expected one of: {', '.join(valid)}"
    where = f" in [{table}]" if table else ""
    return problem_at(path, f"unknown key `{key}`{where}{hint}", line=_line_of(text, key, table), key=key)


def _wrong(path: Path, text: str, key: str, expected: str, value: Any, table: str | None) -> Problem:
    shown = (
        f"{type(value).__name__} {value!r}" if not isinstance(value, (dict, list)) else type(value).__name__
    )
    full = f"{table}.{key}" if table else key
    return problem_at(
        path, f"`{full}` must be {expected}, not {shown}", line=_line_of(text, key, table), key=key
    )


def _line_of(text: str, key: str, table: str | None) -> int | None:
    """The line where ``key`` is set (inside ``[table]``, or as ``table.key``); None if not found."""
    current: str | None = None
    plain = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    dotted = re.compile(rf"^\s*{re.escape(table or '')}\.{re.escape(key)}\s*=") if table else None
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[([^\]]+)\]\s*(#.*)?$", line)
        if header:
            current = header.group(1).strip()
        elif (current == table and plain.match(line)) or (
            current is None and dotted is not None and dotted.match(line)
        ):
            return number
    return None


def template_text(persona_id: str) -> str:
    """A commented starting point for a new persona file (what `llm-tui personas new` writes)."""
    return f'''# A persona for llm-tui: the hidden system message and the settings that go with it.
# The file name is the persona's id ("{persona_id}"). Keys other than these are errors.

name = "{persona_id.replace("-", " ").title()}"
description = "One line: what this persona is for, or what it shows."

# The system message, sent before every conversation and never shown in the chat itself.
# Leave it out (or empty) to send no system message at all: the model then falls back on
# what it was trained with, and on whatever its chat template inserts by itself.
system = """
You are a helpful assistant.
"""

# Optional: a preferred model (a catalog id, see `llm-tui info`) and tags for the picker.
# model = "smollm2-135m-instruct"
# tags = ["everyday"]

# Optional sampling settings; anything left out uses llm-tui's defaults.
[sampling]
temperature = 0.7
# top_p = 0.95
# top_k = 40
# min_p = 0.05
# repeat_penalty = 1.1
# seed = 42
# max_tokens = 512
'''


def text_from_fields(name: str, description: str, system: str | None, sampling: dict[str, Any]) -> str:
    """A persona file made from form fields, serialised by tomli-w (nothing hand-written to keep)."""
    data: dict[str, Any] = {"name": name, "description": description}
    if system:
        data["system"] = system
    if sampling:
        data["sampling"] = sampling
    return tomli_w.dumps(data, multiline_strings=True)
