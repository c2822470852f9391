"""Persona files: the bundled set, user overrides, every kind of bad file, safe ids, atomic saves."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core import atomic
from tui.core.chat.sampling import Sampling
from tui.core.personas.format import Persona, parse_persona, slugify, template_text, text_from_fields
from tui.core.personas.store import PersonaIdError, PersonaStore
from tui.paths import get_paths

LESSONS = {"no-system", "assistant", "almo", "chatgpt-2024"}


def store() -> PersonaStore:
    return PersonaStore(get_paths())


def write_user(name: str, content: str | bytes) -> Path:
    folder = get_paths().user_personas
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def errors_for(file_id: str) -> list[str]:
    found = store().load()
    return [str(e) for b in found.broken if b.id == file_id for e in b.errors]


def test_the_bundled_set_loads_cleanly_and_teaches_the_lessons() -> None:
    found = store().load()
    assert found.broken == []
    assert LESSONS <= set(found.personas)
    assert len(found.personas) >= 8
    assert found.personas["no-system"].system is None
    assert "Almo, a model developed by Allen AI" in (found.personas["almo"].system or "")
    assert "knowledge cutoff is 2024" in (found.personas["chatgpt-2024"].system or "")
    for persona in found.personas.values():
        assert persona.description and persona.origin == "bundled"
        assert persona.system is None or persona.system == persona.system.strip()


def test_user_files_add_and_override_and_the_bundled_file_is_never_touched() -> None:
    bundled = store().bundled_path("almo")
    assert bundled is not None
    before = hashlib.sha256(bundled.read_bytes()).hexdigest()
    store().save("almo", 'name = "My Almo"\nsystem = "You are Almo 2."\n')
    store().save("mine", 'name = "Mine"\n')
    found = store().load()
    assert found.personas["almo"].origin == "overridden" and found.personas["almo"].name == "My Almo"
    assert found.personas["mine"].origin == "user" and found.personas["mine"].system is None
    assert store().delete("almo")  # reset to bundled
    assert store().load().personas["almo"].origin == "bundled"
    assert hashlib.sha256(bundled.read_bytes()).hexdigest() == before


def test_sampling_settings_are_laid_over_the_defaults() -> None:
    persona = store().load().personas["terse-expert"]
    sampling = persona.apply(Sampling(top_k=33))
    assert sampling.temperature == 0.3 and sampling.max_tokens == 256 and sampling.top_k == 33


def test_every_sampling_setting_is_a_persona_key_with_a_range(tmp_path: Path) -> None:
    """One schema: a field added to `Sampling` is a `[sampling]` key at once, checked by its range."""
    from dataclasses import fields

    from tui.core.settings.limits import RANGES

    for field in fields(Sampling):
        assert field.name in RANGES, f"Sampling.{field.name} has no range in limits.RANGES"
        text = f'name = "x"\n[sampling]\n{field.name} = -1e30\n'
        errors = parse_persona("x", text, tmp_path / "x.toml")
        assert isinstance(errors, list)
        assert any(f"sampling.{field.name}" in str(e) for e in errors), field.name


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            'name = "x"\n[sampling]\ntemprature = 0.5\n',
            ["x.toml:3:", "`temprature` in [sampling]", "`temperature`"],
        ),
        ('name = "x"\nsytem = "hi"\n', ["x.toml:2:", "unknown key `sytem`", "did you mean `system`?"]),
        (
            'name = "x"\n\n[sampling]\ntop_k = "many"\n',
            ["x.toml:4:", "`sampling.top_k` must be a whole number"],
        ),
        ('name = "x"\nsampling.temperature = 9\n', ["x.toml:2:", "from 0 to 5", "not int 9"]),
        ("name = 3\n", ["x.toml:1:", "`name` must be a string, not int 3"]),
        ('name = "x"\ntags = ["a", 2]\n', ["x.toml:2:", "`tags` must be a list of strings"]),
        ('name = "x"\nsystem = """unclosed\n', ["x.toml:", "not valid TOML"]),
        ('name = "x"\nname = "y"\n', ["x.toml:2:", "not valid TOML"]),
        ("", ["x.toml", "the file is empty"]),
        ("   \n\n", ["x.toml", "the file is empty"]),
    ],
)
def test_bad_files_name_the_file_line_and_key(content: str, expected: list[str]) -> None:
    write_user("x.toml", content)
    (message,) = errors_for("x")
    for part in expected:
        assert part in message
    assert "almo" in store().load().personas  # the rest still load


def test_non_utf8_directories_unreadable_and_odd_names() -> None:
    write_user("latin.toml", 'name = "ok"\nsystem = "caf\xe9"\n'.encode("latin-1"))
    (get_paths().user_personas / "folder.toml").mkdir()
    (get_paths().user_personas / "gone.toml").symlink_to(get_paths().user_personas / "nowhere")
    write_user("My Persona.toml", 'name = "Mine"\n')
    assert "latin.toml:2: not UTF-8 text (byte 0xe9)" in errors_for("latin")[0]
    assert "this is a folder" in errors_for("folder")[0]
    assert "cannot be read" in errors_for("gone")[0]
    assert "rename it to `my-persona.toml`" in errors_for("my persona")[0]
    assert "assistant" in store().load().personas


def test_a_file_that_cannot_be_read(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_user("locked.toml", 'name = "x"\n')
    real = os.open

    def deny(name: str | Path, flags: int, *args: int) -> int:
        if Path(name) == path:
            raise PermissionError(13, "Permission denied")
        return real(name, flags, *args)

    monkeypatch.setattr(os, "open", deny)  # chmod does not stop root, who runs CI
    assert "cannot be read (Permission denied)" in errors_for("locked")[0]


def test_two_files_claiming_one_id_are_both_reported() -> None:
    write_user("Pirate.toml", 'name = "Loud pirate"\n')
    write_user("pirate.toml", 'name = "Quiet pirate"\n')
    found = store().load()
    claims = [b for b in found.broken if b.id == "pirate"]
    assert len(claims) == 2
    assert all("two files claim the id `pirate`" in str(b.errors[0]) for b in claims)
    assert found.personas["pirate"].origin == "bundled"  # the bundled one is untouched


@pytest.mark.parametrize("bad", ["../../x", "/etc/passwd", "a/b", "..", ".hidden", "UPPER", "", "a" * 65])
def test_ids_from_users_never_leave_the_persona_folder(bad: str) -> None:
    with pytest.raises(PersonaIdError):
        store().user_path(bad)
    assert "/" not in slugify(bad) and ".." not in slugify(bad)


def test_slugify_makes_safe_ids() -> None:
    assert slugify("../../x") == "x"
    assert slugify("My Persona!") == "my-persona"
    assert slugify("/etc/passwd") == "etc-passwd"


def test_the_template_and_field_writers_produce_valid_personas(tmp_path: Path) -> None:
    made = parse_persona("new-one", template_text("new-one"), tmp_path / "new-one.toml")
    assert (
        isinstance(made, Persona) and made.name == "New One" and made.system == "You are a helpful assistant."
    )
    text = text_from_fields('Quote "me"', "A test", "Line one\nLine two", {"temperature": 0.5})
    fields = parse_persona("q", text, tmp_path / "q.toml")
    assert isinstance(fields, Persona)
    assert fields.name == 'Quote "me"' and fields.system == "Line one\nLine two"
    assert fields.sampling == {"temperature": 0.5}


def test_an_interrupted_save_leaves_the_old_file(monkeypatch: pytest.MonkeyPatch) -> None:
    path = store().save("keep", 'name = "old"\n')

    def crash(*_args: object) -> None:
        raise OSError("disk pulled out")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(OSError):
        store().save("keep", 'name = "new"\n')
    assert path.read_text() == 'name = "old"\n'
    assert sorted(p.name for p in path.parent.iterdir()) == ["keep.toml"]


def test_a_process_killed_between_write_and_rename_leaves_the_old_file() -> None:
    path = store().save("keep", 'name = "old"\n')
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from tui.core import atomic
        atomic.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        atomic.write_text_atomic(Path({str(path)!r}), 'name = "new"\\n' * 1000)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], env=os.environ.copy(), timeout=60)
    assert done.returncode == -9
    assert path.read_text() == 'name = "old"\n'
    leftovers = [p.name for p in path.parent.iterdir() if p.name != "keep.toml"]
    assert leftovers and all(name.startswith(".") for name in leftovers)
    found = store().load()
    assert found.personas["keep"].name == "old" and not [b for b in found.broken if b.id != ""]


toml_ish = st.text(
    alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyz_-=[].\"'#\n 0123456789{},:\\ü")), max_size=200
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(content=st.one_of(toml_ish, st.binary(max_size=200)))
def test_no_file_content_can_crash_the_loader(content: str | bytes) -> None:
    path = write_user("fuzz.toml", content)
    found = store().load()
    fuzz = found.personas.get("fuzz")
    broken = [b for b in found.broken if b.id == "fuzz"]
    assert (fuzz is None) != (not broken)  # exactly one: usable, or broken with reasons
    for item in broken:
        assert item.errors and all(str(path) in str(e) for e in item.errors)
    assert LESSONS <= set(found.personas)
