"""The hostile corpus: broken and malicious inputs against the installed `llm-tui` command.

Every case runs in its own process with a time bound and asserts what a user would check: no
traceback, a non-zero exit (or a clean one where the input is fine), a message naming the file or flag
at fault, and nothing written outside llm-tui's own folders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hostile.gguf_craft import hostile_headers, with_template

LLM_TUI = str(Path(sys.executable).parent / "llm-tui")
BOUND = 60


@dataclass
class Result:
    code: int
    out: str
    err: str


def run(home: Path, *args: str | bytes, stdin: str = "", timeout: float = BOUND) -> Result:
    """The installed command, with its own home; fails the test on a traceback or a hang."""
    env = {**os.environ, "LLM_TUI_HOME": str(home), "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    try:
        done = subprocess.run(
            [LLM_TUI, *args], input=stdin.encode(), capture_output=True, timeout=timeout, env=env, cwd=home
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"llm-tui {args!r} did not finish within {timeout} s")
    out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err + out, err
    return Result(done.returncode, out, err)


def outside(root: Path, home: Path) -> set[Path]:
    """Every file under ``root`` that is not in llm-tui's home: what a run must leave alone."""
    return {p for p in root.rglob("*") if home not in p.parents and p != home}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    (path / "config").mkdir(parents=True)
    return path


@pytest.fixture(scope="module")
def headers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("headers")
    files = {}
    for name, data in hostile_headers().items():
        files[name] = folder / f"{name}.gguf"
        files[name].write_bytes(data)
    return files


# --- model files: hostile GGUF headers ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(hostile_headers()))
def test_hostile_headers_are_one_line_errors_naming_the_file(
    name: str, headers: dict[str, Path], home: Path, tmp_path: Path
) -> None:
    path = headers[name]
    before = outside(tmp_path, home)
    for args in (["prompt", "--model", str(path), "hi"], ["info", "--model", str(path)]):
        result = run(home, *args)
        assert result.code == 1 and str(path) in result.err, (args, result.err)
        assert len(result.err.strip().splitlines()) == 1
    entry = f'[[model]]\nid = "bad"\nname = "Bad"\npath = "{path}"\n'
    (home / "config" / "models.toml").write_text(entry)
    info = run(home, "models", "info", "bad")
    assert info.code == 1 and str(path) in info.err
    listing = run(home, "models", "list")
    assert listing.code == 0 and "bad" in listing.out and "smollm2-135m-instruct" in listing.out
    assert outside(tmp_path, home) == before


# --- chat templates inside a GGUF --------------------------------------------------------------

TEMPLATES = {
    "nested-loops": (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "3 s",
    ),
    "300-MB-string": ("{{ 'x' * 300000000 }}", "at most"),
    "syntax-error": ("{% for m in messages %}{{ m.content }}", "syntax error on line 1"),
    "needs-tools": ("{% for t in tools %}{{ t.name }}{% endfor %}{{ messages[0].content }}", "tool"),
    "python-internals": ("{{ messages.__class__.__mro__ }}", "chat template"),
    "doubling-concat": (
        "{% set ns = namespace(x='ab') %}{% for i in range(64) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}",
        "at most",
    ),
}


@pytest.fixture(scope="module")
def templated(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("templates")
    return {
        name: with_template(model_path, folder / f"{name}.gguf", src) for name, (src, _) in TEMPLATES.items()
    }


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_hostile_templates_are_bounded_one_line_errors(
    name: str, templated: dict[str, Path], home: Path
) -> None:
    result = run(home, "prompt", "--model", str(templated[name]), "hi")
    assert result.code == 1, result.err
    assert "chat template" in result.err and TEMPLATES[name][1] in result.err, result.err


def test_a_crafted_copy_with_an_ordinary_template_still_works(
    model_path: Path, tmp_path: Path, home: Path
) -> None:
    """The crafting itself is sound: the same copy with a plain template loads and renders."""
    plain = with_template(
        model_path, tmp_path / "plain.gguf", "{% for m in messages %}[{{ m.content }}]{% endfor %}"
    )
    result = run(home, "prompt", "--model", str(plain), "hi")
    assert result.code == 0 and result.out.strip() == "[hi]"


# --- arguments ----------------------------------------------------------------------------------

ARGUMENTS = [
    (["prompt", "--ctx", "-5", "x"], "--ctx"),
    (["prompt", "--ctx", "9999999999999", "x"], "--ctx"),
    (["prompt", "--threads", "0", "x"], "--threads"),
    (["prompt", "--gpu-layers", "-7", "x"], "--gpu-layers"),
    (["ask", "--max-tokens", "0", "x"], "--max-tokens"),
    (["ask", "--max-tokens", "-5", "x"], "--max-tokens"),
    (["ask", "--temperature", "nan", "x"], "--temperature"),
    (["ask", "--temperature", "inf", "x"], "--temperature"),
    (["ask", "--temperature", "-1", "x"], "--temperature"),
    (["ask", "--seed", "-1", "x"], "--seed"),
    (["ask", "--seed", str(2**32), "x"], "--seed"),
    (["prompt", "--model", "/nonexistent/m.gguf", "x"], "/nonexistent/m.gguf"),
    (["prompt", "--model", "no-such-id", "x"], "no-such-id"),
]


@pytest.mark.parametrize(("args", "named"), ARGUMENTS, ids=[" ".join(a) for a, _ in ARGUMENTS])
def test_bad_numbers_and_names_are_refused_with_the_range(args: list[str], named: str, home: Path) -> None:
    result = run(home, *args)
    assert result.code != 0 and named in result.err, result.err


def test_a_context_that_cannot_fit_in_memory_is_refused_before_llama_cpp_allocates(home: Path) -> None:
    result = run(home, "prompt", "--ctx", "16000000", "x")
    assert result.code == 1 and "--ctx 16000000 needs" in result.err and "use --ctx" in result.err


def test_invalid_utf8_in_an_argument(home: Path) -> None:
    result = run(home, "prompt", b"caf\xe9")
    assert result.code == 1 and "argument 2" in result.err and "UTF-8" in result.err


def test_a_closed_pipe_is_not_a_crash(home: Path) -> None:
    env = {**os.environ, "LLM_TUI_HOME": str(home)}
    done = subprocess.run(
        f"'{LLM_TUI}' paths | head -1", shell=True, capture_output=True, env=env, timeout=BOUND
    )
    assert done.returncode == 0 and b"Traceback" not in done.stderr and done.stdout.startswith(b"config")


# --- personas, catalogs, configs, sessions ------------------------------------------------------


def test_hostile_personas(home: Path) -> None:
    folder = home / "config" / "personas"
    folder.mkdir()
    (folder / "osc.toml").write_text('name = "evil\\u001b]0;pwned\\u0007\\u001b[2J"\ndescription = "x"\n')
    (folder / "markup.toml").write_text('"[/y]" = 1\n')
    (folder / "nan.toml").write_text('name = "n"\n[sampling]\ntemperature = nan\n')
    (folder / "empty.toml").write_text("")
    (folder / "comments.toml").write_text("# nothing\n")
    (folder / "huge-seed.toml").write_text('name = "s"\n[sampling]\nseed = 4294967296\n')
    os.mkfifo(folder / "fifo.toml")
    result = run(home, "personas", "validate")
    assert result.code == 1
    for name in ("markup.toml", "nan.toml", "empty.toml", "comments.toml", "huge-seed.toml", "fifo.toml"):
        assert name in result.out + result.err, name
    listing = run(home, "personas", "list")
    # piped output stays byte-exact (a script sees what is really there) ...
    assert "\x1b]0;pwned" in listing.out and "assistant" in listing.out


def test_control_characters_are_pictures_on_a_terminal() -> None:
    from tui.core.text_safety import terminal_safe

    class Tty:
        def isatty(self) -> bool:
            return True

    shown = terminal_safe("evil\x1b]0;pwned\x07\x1b[2J", Tty())  # type: ignore[arg-type]
    assert "\x1b" not in shown and "␛]0;pwned␇␛[2J" in shown


def test_hostile_catalogs(home: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.gguf"
    mine.write_bytes(b"my own file")
    catalog = home / "config" / "models.toml"
    catalog.write_text(
        '[[model]]\nid = "escape"\nname = "E"\nrepo = "a/b"\nfile = "../../x.gguf"\n'
        '[[model]]\nid = "abs"\nname = "A"\nrepo = "a/b"\nfile = "/etc/passwd"\n'
        '[[model]]\nid = "../evil"\nname = "V"\nrepo = "a/b"\nfile = "x.gguf"\n'
        '[[model]]\nid = "neg"\nname = "N"\nrepo = "a/b"\nfile = "x.gguf"\nsize = -5\n'
        f'[[model]]\nid = "mine"\nname = "Mine"\npath = "{mine}"\n'
    )
    listing = run(home, "models", "list")
    assert listing.code == 0 and "mine" in listing.out
    for key in ("'file'", "'id'", "'size'"):
        assert key in listing.err
    assert "escape" not in listing.out and "abs" not in listing.out
    removed = run(home, "models", "rm", "mine", "--yes")
    assert removed.code == 1 and "your own file" in removed.err and mine.read_bytes() == b"my own file"
    for content in (None, "/dev/zero"):
        catalog.unlink()
        if content is None:
            os.mkfifo(catalog)
        else:
            catalog.symlink_to(content)
        listing = run(home, "models", "list", timeout=20)
        assert listing.code == 0 and str(catalog) in listing.err and "smollm2" in listing.out


def test_hostile_sessions(home: Path, tmp_path: Path) -> None:
    sessions = home / "data" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / "20250101-000000-deep0001.json").write_text("[" * 100_000 + "]" * 100_000)
    (sessions / "20250101-000000-broken01.json").write_text("{not json")
    good = {
        "format": 1,
        "id": "good0001",
        "number": 1,
        "started": "2025-01-01T00:00:00+00:00",
        "model": {"name": "m", "file": "f", "context": 1, "device": "CPU"},
        "persona": None,
        "system": None,
        "sampling": {},
        "turns": [],
    }
    (sessions / "20250101-000000-good0001.json").write_text(json.dumps(good))
    listing = run(home, "sessions", "list")
    assert listing.code == 0 and "good0001" in listing.out and "deep0001" in listing.err
    shown = run(home, "sessions", "show", "broken01")
    assert shown.code == 1 and "broken01.json" in shown.err and "not a readable session" in shown.err
    for target, says in (
        (tmp_path, "is a folder"),
        (tmp_path / "missing" / "x.md", "does not exist"),
        (Path("/proc/x.md"), "--output /proc/x.md: cannot write"),
    ):
        result = run(home, "sessions", "export", "good0001", "-o", str(target))
        assert result.code == 1 and says in result.err, result.err
    assert not (tmp_path / "missing").exists()
