"""The README's key table and command table name only keys, commands, verbs and flags that exist:
read against the key registry and the argument parser, so neither can drift from the app."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from tui.cli.parser import build_parser
from tui.ui.actions import ACTIONS

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
TEXTUAL_OWN = {"tab", "ctrl+p"}
"""Keys Textual itself binds: focus moves, the command palette."""
ARROWS = {"←": "left", "→": "right", "↑": "up", "↓": "down"}


def table_after(header: str) -> list[list[str]]:
    lines = README.split(header, 1)[1].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
    return rows


def test_every_key_in_the_readme_is_bound() -> None:
    bound = {key.strip() for action in ACTIONS for key in action.keys.split(",")} | TEXTUAL_OWN
    rows = table_after("| key | does |")
    assert len(rows) > 10
    for row in rows:
        for key in re.findall(r"`([^`]+)`", row[0]):
            for part in key.split():
                name = "+".join(ARROWS.get(piece, piece) for piece in part.split("+"))
                assert name in bound, f"README names the key `{key}`, which nothing binds"


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:  # argparse keeps its subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                fill = getattr(action, "fillers", {}).pop(name, None)
                if fill is not None:  # llm-tui adds a command's options when it is parsed
                    fill(command)
            found.update(action.choices)
    return found


def flags(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def test_every_command_verb_and_flag_in_the_readme_exists() -> None:
    parser = build_parser()
    commands = subcommands(parser)
    rows = table_after("| command | what it does |")
    assert len(rows) > 8
    for cell, said in rows:
        usage = re.findall(r"`llm-tui ([^`]+)`", cell)[0]
        words = usage.replace("\\|", "|").split()
        command = commands.get(words[0])
        assert command is not None, f"README names `llm-tui {words[0]}`, which does not exist"
        verbs = subcommands(command)
        if len(words) > 1 and not words[1].startswith(("-", "[")) and verbs:
            for verb in words[1].split("|"):
                assert verb in verbs, f"README names `llm-tui {words[0]} {verb}`, which does not exist"
        known = flags(command) | {f for v in verbs.values() for f in flags(v)} | flags(parser)
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", cell + " " + said):
            assert flag in known, f"README gives `llm-tui {words[0]}` the flag {flag}, which it does not take"
