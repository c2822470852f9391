"""A reply shaded token by token by how likely the model found each token.

Low-confidence stretches are where made-up facts tend to be. Click a token (or tab here and move
with the arrow keys) to see what else the model considered there; choose one of those runners-up
and the reply is cut there and continued from it, as a new branch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from tui.core.chat.tree import Turn
from tui.core.engine.values import Piece
from tui.ui.actions import bindings
from tui.ui.widgets.message_views import turn_of, type_into_the_box

SHADES = ((0.9, ""), (0.5, "on #3a3a1a"), (0.2, "on #5a3a10"), (0.0, "on #6a1a1a"))
CHOSEN_MARK = "⑂"


def shade(probability: float) -> str:
    for floor, style in SHADES:
        if probability >= floor:
            return style
    return SHADES[-1][1]


def describe(piece: Piece) -> str:
    sure = piece.confidence
    if sure is None:
        return ""
    others = ", ".join(f"{a.text!r} {a.probability:.0%}" for a in sure.alternatives)
    return f"{piece.text!r}: {sure.probability:.1%} · the model's top choices there: {others}"


class ConfidenceView(Vertical, can_focus=True):
    """The reply's tokens, shaded; a cursor on one token and one of its runners-up."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("confidence")

    @dataclass
    class Chosen(Message):
        """Continue the reply from runner-up ``token`` at piece ``index`` (a new branch)."""

        turn: Turn
        index: int
        token: int

    def on_key(self, event: events.Key) -> None:
        type_into_the_box(self, event)

    def __init__(self, pieces: list[Piece], branched_at: int | None = None) -> None:
        super().__init__(classes="confidence")
        self.pieces = pieces
        self.branched_at = branched_at
        """Where a runner-up was chosen (this reply continued from it): marked."""
        self.choosable = [i for i, p in enumerate(pieces) if p.confidence and p.token >= 0]
        self.cursor: int | None = None
        self.alternative = 0

    def compose(self) -> ComposeResult:
        hint = (
            "Token confidence (click a token, or tab here: ←/→ token, ↑/↓ runner-up, enter continues from it)"
        )
        yield Static(Text(hint, "dim"))
        yield Static(self._tokens(), classes="confidence-tokens")
        detail = self._least_likely() if self.branched_at is None else self._branch_note()
        yield Static(detail, classes="confidence-detail")

    def _tokens(self) -> Text:
        text = Text()
        for index, piece in enumerate(self.pieces):
            probability = piece.confidence.probability if piece.confidence else 1.0
            style = Style.parse(shade(probability) or "none") + Style(meta={"@click": f"show({index})"})
            if index == self.branched_at:
                text.append(CHOSEN_MARK, "bold magenta")
                style += Style(underline=True, bold=True)
            if index == self.cursor:
                style += Style(reverse=True)
            text.append(piece.text, style)
        return text

    def _least_likely(self, count: int = 3) -> Text:
        ranked = sorted(
            (p for p in self.pieces if p.confidence and p.text.strip()),
            key=lambda p: p.confidence.probability if p.confidence else 1.0,
        )
        lines = [describe(p) for p in ranked[:count]]
        return Text("Least likely: " + (" | ".join(lines) if lines else "none"), "dim")

    def _branch_note(self) -> Text:
        assert self.branched_at is not None
        piece = self.pieces[self.branched_at]
        return Text(
            f"{CHOSEN_MARK} continued from here: {piece.text!r} was chosen instead of the model's own "
            f"token ({describe(piece)})",
            "dim",
        )

    def _detail(self) -> Text:
        """The token under the cursor and its runners-up, each one clickable."""
        if self.cursor is None:
            return self._least_likely()
        piece = self.pieces[self.cursor]
        sure = piece.confidence
        assert sure is not None
        text = Text(f"{piece.text!r}: {sure.probability:.1%} · continue from a runner-up instead: ")
        for number, alt in enumerate(sure.alternatives):
            style = Style(meta={"@click": f"choose({self.cursor},{alt.token})"})
            if number == self.alternative:
                style += Style(reverse=True)
            mark = " (the one it took)" if alt.token == piece.token else ""
            text.append(f"{alt.text!r} {alt.probability:.0%}{mark}", style)
            text.append("  ")
        return text

    def _redraw(self) -> None:
        self.query_one(".confidence-tokens", Static).update(self._tokens())
        self.query_one(".confidence-detail", Static).update(self._detail())

    def action_show(self, index: int) -> None:
        if index not in self.choosable:
            return
        self.cursor, self.alternative = index, 0
        self._redraw()

    def action_move(self, step: int) -> None:
        if not self.choosable:
            return
        if self.cursor is None:
            at = 0 if step > 0 else len(self.choosable) - 1
        else:
            at = max(0, min(len(self.choosable) - 1, self.choosable.index(self.cursor) + step))
        self.cursor, self.alternative = self.choosable[at], 0
        self._redraw()

    def action_alternative(self, step: int) -> None:
        if self.cursor is None:
            self.action_move(1)
            return
        sure = self.pieces[self.cursor].confidence
        assert sure is not None
        self.alternative = max(0, min(len(sure.alternatives) - 1, self.alternative + step))
        self._redraw()

    def action_continue_here(self) -> None:
        if self.cursor is None:
            self.app.notify("Choose a token first (←/→), then a runner-up (↑/↓).", severity="warning")
            return
        sure = self.pieces[self.cursor].confidence
        assert sure is not None
        self.action_choose(self.cursor, sure.alternatives[self.alternative].token)

    def action_choose(self, index: int, token: int) -> None:
        if token == self.pieces[index].token:
            self.app.notify("That is the token the model took: choose a runner-up.", severity="warning")
            return
        if (turn := turn_of(self)) is not None:
            self.post_message(self.Chosen(turn, index, token))
