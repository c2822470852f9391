"""Saying what went wrong on stderr: one line, with control characters made visible on a terminal."""

from __future__ import annotations

import sys


def print_error(line: str) -> None:
    from tui.core.text_safety import terminal_safe

    try:
        print(terminal_safe(line, sys.stderr), file=sys.stderr)
    except (OSError, ValueError):
        pass
