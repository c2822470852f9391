"""`llm-tui personas …`: list, show, create, edit and validate persona files from the shell."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from tui.core.personas.editor import EditorError, editor_command, run_editor
from tui.core.personas.format import Persona, template_text
from tui.core.personas.store import SUFFIX, BrokenPersona, PersonaIdError, PersonaStore, read_persona_file
from tui.core.problems import ProblemError
from tui.core.text_safety import terminal_safe
from tui.paths import get_paths


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    store = PersonaStore(get_paths())
    try:
        if args.verb == "list":
            return _list(store, out)
        if args.verb == "show":
            return _show(store, args.id, out)
        if args.verb == "new":
            return _new(store, args.id, out)
        if args.verb == "edit":
            return _edit(store, args.id, out)
        return _validate(store, args.paths, out, err)
    except (PersonaIdError, EditorError) as exc:
        raise ProblemError(str(exc)) from exc


def _list(store: PersonaStore, out: TextIO) -> int:
    found = store.load()
    rows = [
        (p.id, p.name, p.origin, p.description) for p in sorted(found.personas.values(), key=lambda p: p.id)
    ]
    width = max((len(r[0]) for r in rows), default=2)
    for persona_id, name, origin, description in rows:
        print(terminal_safe(f"{persona_id:<{width}}  {origin:<10}  {name}: {description}", out), file=out)
    if found.broken:
        print(f"\n{len(found.broken)} broken file(s), not usable until fixed:", file=out)
        for broken in found.broken:
            _print_broken(broken, out)
    return 0


def _print_broken(broken: BrokenPersona, out: TextIO) -> None:
    for error in broken.errors:
        print(terminal_safe(f"  {error}", out), file=out)


def _find(store: PersonaStore, persona_id: str) -> Persona:
    found = store.load()
    persona = found.get(persona_id)
    if persona is None:
        for broken in found.broken:
            if broken.id == persona_id:
                raise ProblemError(f"persona `{persona_id}` is broken: {broken.errors[0]}")
        known = ", ".join(sorted(found.personas))
        raise ProblemError(f"no persona `{persona_id}`; known: {known}")
    return persona


def _show(store: PersonaStore, persona_id: str, out: TextIO) -> int:
    persona = _find(store, persona_id)
    assert persona.path is not None
    print(f"# {persona.path} ({persona.origin})", file=out)
    out.write(terminal_safe(persona.path.read_text(encoding="utf-8"), out))
    return 0


def _new(store: PersonaStore, persona_id: str, out: TextIO) -> int:
    path = store.user_path(persona_id)
    taken = store.taken(persona_id)
    if taken is not None:
        what = "a link" if taken.is_symlink() else "a file"
        raise ProblemError(
            f"{taken} already exists ({what} claiming the id `{persona_id}`; ids ignore case): "
            f"edit it with `llm-tui personas edit {persona_id}`, or pick another id"
        )
    store.save(persona_id, template_text(persona_id))
    print(path, file=out)
    return 0


def _edit(store: PersonaStore, persona_id: str, out: TextIO) -> int:
    path = store.user_path(persona_id)
    editor = editor_command()  # a broken $EDITOR is said before anything is copied
    if not path.exists():
        bundled = store.bundled_path(persona_id)
        if bundled is None:
            raise ProblemError(
                f"no persona `{persona_id}` to edit; create it with `llm-tui personas new {persona_id}`"
            )
        store.save(persona_id, bundled.read_text(encoding="utf-8"))  # the bundled file is never edited
        print(f"copied the bundled persona to {path}", file=out)
    run_editor(path, editor)
    return _validate(store, [path], out, out)


def _validate(store: PersonaStore, paths: list[Path], out: TextIO, err: TextIO) -> int:
    if not paths:
        found = store.load()
        for broken in found.broken:
            _print_broken(broken, err)
        print(f"{len(found.personas)} valid, {len(found.broken)} broken", file=out)
        return 1 if found.broken else 0
    failures = 0
    for path in paths:
        errors = _check_file(path)
        for error in errors:
            print(terminal_safe(f"  {error}", err), file=err)
        failures += bool(errors)
        print(f"{path}: {'ok' if not errors else f'{len(errors)} error(s)'}", file=out)
    return 1 if failures else 0


def _check_file(path: Path) -> list[str]:
    if path.suffix != SUFFIX:
        return [f"{path}: persona files end in {SUFFIX}"]
    parsed = read_persona_file(path.stem.lower(), path)
    return [] if isinstance(parsed, Persona) else [str(e) for e in parsed]
