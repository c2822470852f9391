"""One type for everything that can be wrong with what the user gave us, and one way to say it.

A persona file, a catalog entry, ``config.toml``, ``state.toml``, a saved session, a chat template, a
model file or a command-line flag: each problem names where (the file or the flag), the line and key when
known, what is wrong, and what to do about it. The CLI prints it as one line; the TUI shows the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """Something wrong with one input: where it is, what is wrong, and what to do."""

    source: str
    """The file's path, or the flag or setting (``--ctx``) the value came from."""
    message: str
    line: int | None = None
    entry: str | None = None
    """Where inside the source, when a line is not enough: ``[[model]] #3 (id 'x')``, ``[keymap]``."""
    key: str | None = None
    """The key the problem is about, for tools that want to point at it (the editor marks its line)."""
    hint: str | None = None
    """What to do about it, when the message alone does not say."""

    @property
    def path(self) -> Path:
        return Path(self.source)

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        parts = [where]
        if self.entry:
            parts.append(self.entry)
        text = ": ".join([*parts, self.message])
        return f"{text} ({self.hint})" if self.hint else text


def problem_at(path: Path | str, message: str, **details: object) -> Problem:
    """A problem in a file (a shorthand that accepts a `Path`)."""
    return Problem(str(path), message, **details)  # type: ignore[arg-type]


class ProblemError(Exception):
    """An error the user can act on: shown as one line (the CLI exits 1), never as a traceback."""

    def __init__(self, problem: Problem | str) -> None:
        self.problem = problem if isinstance(problem, Problem) else None
        super().__init__(str(problem))


def toml_problem(path: Path | str, exc: ValueError, consequence: str = "") -> Problem:
    """A TOML syntax error as a problem on its line (tomllib puts the line inside its message)."""
    message = str(exc)
    match = re.search(r"\(at line (\d+), column \d+\)", message)
    line = int(match.group(1)) if match else None
    message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
    return Problem(str(path), f"not valid TOML: {message}{consequence}", line=line)
