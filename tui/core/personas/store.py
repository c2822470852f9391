"""Where personas live: the bundled folder, then the user's folder, which overrides by id.

Bundled files are never written. Editing a bundled persona saves a copy in the user folder;
"reset to bundled" removes that copy. Every problem is reported per file; the rest still load.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from tui.core.atomic import write_text_atomic
from tui.core.personas.format import Persona, is_slug, parse_persona, slugify
from tui.core.problems import Problem
from tui.core.safe_read import UnreadableFile, read_bytes_bounded
from tui.paths import Paths, bundled_personas_dir

SUFFIX = ".toml"
DEFAULT_PERSONA = "no-system"


class PersonaIdError(ValueError):
    """An id typed by a user that is not a safe file name."""


@dataclass(frozen=True)
class BrokenPersona:
    id: str
    path: Path
    origin: str
    errors: tuple[Problem, ...]


@dataclass
class PersonaSet:
    personas: dict[str, Persona] = field(default_factory=dict)
    broken: list[BrokenPersona] = field(default_factory=list)

    def get(self, persona_id: str) -> Persona | None:
        return self.personas.get(persona_id)


Snapshot = dict[Path, tuple[int, int]]


class PersonaStore:
    def __init__(self, paths: Paths, bundled: Path | None = None) -> None:
        self.user_dir = paths.user_personas
        self.bundled_dir = bundled or bundled_personas_dir()

    def load(self) -> PersonaSet:
        result = PersonaSet()
        bundled = _load_folder(self.bundled_dir, "bundled", result)
        user = _load_folder(self.user_dir, "user", result)
        result.personas.update(bundled)
        for persona_id, persona in user.items():
            origin = "overridden" if persona_id in bundled else "user"
            result.personas[persona_id] = replace(persona, origin=origin)
        return result

    def user_path(self, persona_id: str) -> Path:
        """The user file for ``persona_id``; refuses anything that is not a plain slug."""
        if not is_slug(persona_id):
            suggestion = slugify(persona_id)
            hint = f" (try `{suggestion}`)" if suggestion else ""
            raise PersonaIdError(
                f"`{persona_id}` is not a valid persona id: use lowercase letters, digits, "
                f"'-', '_' and '.'{hint}"
            )
        return self.user_dir / f"{persona_id}{SUFFIX}"

    def taken(self, persona_id: str) -> Path | None:
        """The entry in the user folder that already claims ``persona_id``: its own file, a link
        (even one to nowhere), or a file whose name differs only in case (``Pirate.toml``: ids
        are case-insensitive wherever files are). None when a new persona may have the id."""
        wanted = f"{persona_id}{SUFFIX}".casefold()
        try:
            for entry in self.user_dir.iterdir():
                if entry.name.casefold() == wanted:
                    return entry
        except OSError:
            return None  # no folder yet: nothing claims it
        return None

    def bundled_path(self, persona_id: str) -> Path | None:
        path = self.bundled_dir / f"{persona_id}{SUFFIX}"
        return path if is_slug(persona_id) and path.is_file() else None

    def save(self, persona_id: str, text: str) -> Path:
        """Write the user's text as typed (comments and layout kept), atomically."""
        path = self.user_path(persona_id)
        write_text_atomic(path, text)
        return path

    def delete(self, persona_id: str) -> bool:
        """Remove the user's file (for a bundled id this is "reset to bundled")."""
        path = self.user_path(persona_id)
        if path.is_file():
            path.unlink()
            return True
        return False

    def snapshot(self) -> Snapshot:
        """A cheap fingerprint of both folders, to notice files edited outside the app."""
        seen: Snapshot = {}
        for folder in (self.bundled_dir, self.user_dir):
            try:
                entries = list(folder.iterdir())
            except OSError:
                continue
            for path in entries:
                if path.suffix.lower() == SUFFIX:
                    try:
                        stat = path.stat()
                    except OSError:
                        continue
                    seen[path] = (stat.st_mtime_ns, stat.st_size)
        return seen


def _load_folder(folder: Path, origin: str, result: PersonaSet) -> dict[str, Persona]:
    loaded: dict[str, Persona] = {}
    try:
        entries = sorted(folder.iterdir())
    except FileNotFoundError:
        return loaded
    except OSError as exc:
        error = Problem(str(folder), f"the persona folder cannot be read: {exc.strerror or exc}")
        result.broken.append(BrokenPersona("", folder, origin, (error,)))
        return loaded
    claims: dict[str, list[Path]] = {}
    for path in entries:
        if path.suffix.lower() == SUFFIX and not path.name.startswith(("_", ".")):
            claims.setdefault(path.stem.lower(), []).append(path)
    for persona_id, paths in claims.items():
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            for path in paths:
                message = f"two files claim the id `{persona_id}` ({names}): rename or remove one"
                result.broken.append(BrokenPersona(persona_id, path, origin, (Problem(str(path), message),)))
            continue
        parsed = read_persona_file(persona_id, paths[0])
        if isinstance(parsed, Persona):
            loaded[persona_id] = replace(parsed, origin=origin)
        else:
            result.broken.append(BrokenPersona(persona_id, paths[0], origin, tuple(parsed)))
    return loaded


def read_persona_file(persona_id: str, path: Path) -> Persona | list[Problem]:
    """One persona file, or every reason it cannot be used."""
    if not is_slug(persona_id):
        better = slugify(path.stem) or "my-persona"
        return [
            Problem(
                str(path),
                f"the file name is not a valid persona id: rename it to `{better}{SUFFIX}` "
                "(lowercase letters, digits, '-', '_' and '.')",
            )
        ]
    if path.is_dir():
        return [Problem(str(path), "this is a folder, not a persona file")]
    try:
        raw = read_bytes_bounded(path)
    except UnreadableFile as exc:
        return [Problem(str(path), exc.reason, line=exc.line)]
    except OSError as exc:
        return [Problem(str(path), f"cannot be read: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [Problem(str(path), f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8", line)]
    return parse_persona(persona_id, text, path)
