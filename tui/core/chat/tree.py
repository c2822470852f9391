"""A session as a tree: regenerate and edit keep the old turn, and only one path is ever sent.

Each `Turn` is one exchange (a user message and a reply) and points to the turn before it. Turns
with the same parent and the same ``asked`` answer one user message (regenerated, continued from an
edit or from another token); a different ``asked`` under the same parent is an edited message, a
branch from there. The model is sent the current path only: the siblings are kept for the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from tui.core.engine.values import Piece, ReplyStats
from tui.core.prompt.build import Prompt
from tui.core.prompt.messages import Message

Origin = Literal["sent", "regenerated", "edited message", "edited reply", "token", "reopened"]
"""How a turn came to be: typed, a new sample of the same prompt, an edit of either side, a runner-up
token chosen in the confidence view, or read back from a saved transcript."""

Side = Literal["user", "reply"]


@dataclass(frozen=True)
class Unanswered:
    """A message that got no reply (the server failed, the template refused it): kept with why."""

    user: str
    after: int
    """How many turns the session held when it was sent (where it goes when shown again)."""
    why: str


@dataclass(eq=False)
class Turn:
    """One exchange, with the exact prompt it was sent as and how the reply ended."""

    user: str
    prompt: Prompt
    reply: str = ""
    """The answer: the reply without its thinking."""
    stats: ReplyStats | None = None
    pieces: list[Piece] = field(default_factory=list)
    """The reply token by token, kept only when token confidence was asked for."""
    thinking: str = ""
    """What a reasoning model thought before answering (tui.core.chat.thinking)."""
    written: str = ""
    """The reply exactly as generated, thinking markup included."""
    parent: Turn | None = None
    """The turn before this one on its path (None: a first turn)."""
    asked: int = 0
    """Which user message this answers (see the module docstring)."""
    first_kept: int = 0
    """The first turn of its path this turn's prompt held (earlier ones were dropped to fit)."""
    origin: Origin = "sent"
    prefix: str = ""
    """The start of the reply the user wrote (an edited reply the model continued), else empty."""
    branched_at: int | None = None
    """For a reply continued from a runner-up token: that token's index in ``pieces``."""
    seen: int = 0
    """When this turn was last on the current path (which branch to follow below a switch)."""
    error: str = ""
    """Why the reply broke off (a server gone, an error), when it did: said, not taken for a stop."""

    def as_message(self) -> Message:
        """This reply as the next prompt passes it; the template decides what of it is sent."""
        return Message("assistant", self.reply, self.thinking or None, self.written or None)


class Position(NamedTuple):
    """Where a message sits among its siblings: ``number`` of ``of``, counted from 1."""

    number: int
    of: int

    def __str__(self) -> str:
        return f"{self.number}/{self.of}"


class Tree:
    """Every turn of a session, in the order they were made, and the current path through them."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self._below: dict[int, list[Turn]] = {}
        """Each turn's children by the parent's id (None's for first turns): a saved tree of many
        thousand turns is walked in linear time."""
        self.leaf: Turn | None = None
        self._clock = 0
        self._asked = 0

    def path(self) -> list[Turn]:
        """The current path, first turn first."""
        return self.path_to(self.leaf)

    def path_to(self, last: Turn | None) -> list[Turn]:
        """The turns from a first turn down to ``last`` (none for None)."""
        path: list[Turn] = []
        while last is not None:
            path.append(last)
            last = last.parent
        return path[::-1]

    def children(self, parent: Turn | None) -> list[Turn]:
        return list(self._below.get(id(parent), ()))

    def messages_after(self, parent: Turn | None) -> list[list[Turn]]:
        """The user messages that follow ``parent`` (one per ``asked``), each with its replies."""
        groups: dict[int, list[Turn]] = {}
        for turn in self.children(parent):
            groups.setdefault(turn.asked, []).append(turn)
        return list(groups.values())

    def replies(self, turn: Turn) -> list[Turn]:
        """``turn`` and the other replies to its user message."""
        return [t for t in self.children(turn.parent) if t.asked == turn.asked]

    def position(self, turn: Turn, side: Side) -> Position:
        """Where ``turn``'s user message (or its reply) sits among its siblings."""
        if side == "reply":
            replies = self.replies(turn)
            return Position(replies.index(turn) + 1, len(replies))
        groups = self.messages_after(turn.parent)
        index = next(i for i, group in enumerate(groups) if turn in group)
        return Position(index + 1, len(groups))

    def new_asked(self) -> int:
        self._asked += 1
        return self._asked

    def add(self, turn: Turn) -> None:
        """Record a turn and make its path the current one."""
        self.turns.append(turn)
        self._below.setdefault(id(turn.parent), []).append(turn)
        self._asked = max(self._asked, turn.asked)
        self.select(turn)

    def select(self, turn: Turn | None) -> None:
        """Make the path through ``turn`` current, going on below it the way it was last seen."""
        node = turn
        while node is not None and (below := self.children(node)):
            node = max(below, key=lambda t: t.seen)
        self.leaf = node
        for step in self.path_to(node):
            self._clock += 1
            step.seen = self._clock

    def switch(self, turn: Turn, side: Side, step: int) -> Turn | None:
        """The sibling ``step`` away from ``turn``'s message or reply, made current; None at an end.

        Nothing is decoded: the next message is sent from the new path (the engine reuses whatever
        prefix of it is still in its cache).
        """
        if side == "reply":
            siblings = self.replies(turn)
            at = siblings.index(turn) + step
            target = siblings[at] if 0 <= at < len(siblings) else None
        else:
            groups = self.messages_after(turn.parent)
            at = next(i for i, group in enumerate(groups) if turn in group) + step
            group = groups[at] if 0 <= at < len(groups) else None
            target = max(group, key=lambda t: t.seen) if group else None
        if target is not None:
            self.select(target)
        return target

    def unsent(self) -> tuple[int, int]:
        """(branches, turns) kept beside the current path: never sent to the model."""
        on_path = set(map(id, self.path()))
        parents = {id(t.parent) for t in self.turns}
        leaves = [t for t in self.turns if id(t) not in parents and id(t) not in on_path]
        return len(leaves), sum(id(t) not in on_path for t in self.turns)
