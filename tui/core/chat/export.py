"""A saved session for reading: the current path as Markdown, or the whole tree as an outline or
as nested Markdown headings. Kept for the user; the model never sees any of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from tui.core.chat.transcripts import SavedTurn, Transcript, restore
from tui.core.chat.tree import Turn

ORIGINS = {
    "regenerated": "regenerated",
    "edited message": "edited",
    "edited reply": "edited, then continued",
    "token": "continued from a runner-up token",
    "reopened": "from a reopened transcript",
}


class Row(NamedTuple):
    """One message of the tree: how deep it sits, whose it is, its place among its siblings."""

    depth: int
    side: str
    """``user`` or ``reply``."""
    number: int
    of: int
    """Its place among its siblings: ``number`` of ``of``."""
    turn: int
    """Its turn's index in ``Transcript.turns``."""
    on_path: bool


def rows(saved: Transcript) -> Iterator[Row]:
    """Every message depth first, read off the restored tree (`transcripts.restore`). Where there
    are siblings, each one's continuation is indented under it; a conversation without branches
    stays flat. (A stack, not recursion: a long conversation is a deep tree.)"""
    tree = restore(saved).tree
    index = {id(turn): number for number, turn in enumerate(tree.turns)}
    on_path = {id(turn) for turn in tree.path()}

    def level(parent: Turn | None, depth: int) -> Iterator[Row | tuple[Turn, int]]:
        """The messages after ``parent``; a (turn, depth) pair where a reply's followers go."""
        groups = tree.messages_after(parent)
        for number, group in enumerate(groups, start=1):
            sent = any(id(t) in on_path for t in group)
            yield Row(depth, "user", number, len(groups), index[id(group[0])], sent)
            below = depth + 1 if len(groups) > 1 else depth
            for place, turn in enumerate(group, start=1):
                yield Row(below, "reply", place, len(group), index[id(turn)], id(turn) in on_path)
                yield turn, below + 1 if len(group) > 1 else below

    stack = [level(None, 0)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif isinstance(item, Row):
            yield item
        else:
            stack.append(level(*item))


def outline(saved: Transcript, width: int = 72) -> str:
    """The tree as an indented outline, one line per message with its sibling position."""
    branches = saved.branches
    lines = [
        f"Session #{saved.number} ({saved.started}): {len(saved.path)} turn(s) on the current path, "
        f"{len(saved.turns)} turn(s) in {branches} branch(es); * marks the path the model was sent"
    ]
    for row in rows(saved):
        turn = saved.turns[row.turn]
        who = "you" if row.side == "user" else "model"
        origin = _origin(turn, row.side)
        text = turn.user if row.side == "user" else turn.reply or (turn.thinking and "(thinking only)")
        first = " ".join(text.split())
        first = first if len(first) <= width else first[: width - 1] + "…"
        mark = "*" if row.on_path else " "
        lines.append(f"{mark} {_indent(row.depth)}{who} {row.number}/{row.of}{origin}: {first}")
    return "\n".join(lines) + "\n"


MAX_INDENT = 20
"""Levels drawn as indentation; deeper ones say their depth (a 100,000-turn line must not print
gigabytes of spaces)."""


def _indent(depth: int) -> str:
    if depth <= MAX_INDENT:
        return "  " * depth
    return "  " * MAX_INDENT + f"[depth {depth}] "


def _origin(turn: SavedTurn, side: str) -> str:
    if side == "user":
        return " (edited)" if turn.origin == "edited message" else ""
    said = ORIGINS.get(turn.origin) if turn.origin != "edited message" else None
    return f" ({said})" if said else ""


def to_markdown(saved: Transcript, everything: bool = False) -> str:
    """A readable record: settings, then the current path's turns (or, with ``everything``, every
    branch under nested headings), each reply with the exact prompt it was sent as."""
    model = saved.model
    sampling = ", ".join(f"{k}={v}" for k, v in saved.sampling.items() if v is not None)
    lines = [
        f"# Session #{saved.number} ({saved.started})",
        "",
        f"- model: {model.name} ({model.device}, context {model.context})",
        f"- persona: {saved.persona or 'none'}",
        f"- system message: {saved.system!r}" if saved.system else "- system message: none",
        f"- sampling: {sampling}",
        *([f"- reopened from: {saved.reopened_from}"] if saved.reopened_from else []),
        "",
        "Kept for you: the model cannot see this. Every session starts from nothing.",
    ]
    branches = saved.branches
    if not everything:
        if branches > 1:
            lines += [
                "",
                f"The current path of {branches} branches (`sessions show --tree`, `export --all`).",
            ]
        for number, turn in enumerate(saved.path_turns, start=1):
            lines += ["", f"## Turn {number}", "", "**You:**", "", turn.user, "", *_reply(turn)]
        return "\n".join(lines + _unanswered(saved)) + "\n"
    lines += ["", "Every branch; the model was only ever sent one path at a time (marked “sent”)."]
    for row in rows(saved):
        turn = saved.turns[row.turn]
        hashes = "#" * min(6, 2 + row.depth)
        sent = " · sent" if row.on_path else ""
        if row.side == "user":
            title = f"{hashes} You, message {row.number} of {row.of}{_origin(turn, 'user')}{sent}"
            lines += ["", title, "", turn.user]
        else:
            title = f"{hashes} Model, reply {row.number} of {row.of}{_origin(turn, 'reply')}{sent}"
            lines += ["", title, "", *_reply(turn, heading=False)]
    return "\n".join(lines + _unanswered(saved)) + "\n"


def _unanswered(saved: Transcript) -> list[str]:
    """Messages that got no reply: kept so nothing typed is lost, never sent again."""
    lines = []
    for item in saved.unanswered:
        lines += ["", f"## Unanswered, sent after turn {item.after}", "", "**You:**", "", item.user]
        lines += ["", f"*No reply: {item.why}*"]
    return lines


def _reply(turn: SavedTurn, heading: bool = True) -> list[str]:
    stats = f"seed {turn.seed}, {turn.completion_tokens} tokens, stop: {turn.stop}"
    if turn.error:
        stats = f"broke off: {turn.error}"
    if turn.origin == "reopened":
        stats = "read back from a saved transcript, sent again as text"
    thinking = (
        [
            f"<details><summary>Thinking ({len(turn.thinking)} characters)</summary>",
            "",
            turn.thinking,
            "",
            "</details>",
            "",
        ]
        if turn.thinking
        else []
    )
    return [
        *thinking,
        f"**Model** ({stats}):" if heading else f"*{stats}*",
        "",
        turn.reply,
        "",
        f"<details><summary>The exact prompt ({turn.prompt_tokens} tokens)</summary>",
        "",
        "```text",
        turn.prompt,
        "```",
        "",
        "</details>",
    ]
