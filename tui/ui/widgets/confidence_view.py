"""A reply shaded token by token by how likely the model found each token.

Low-confidence stretches are where made-up facts tend to be. Click a token to see what else the
model considered there; the least likely tokens are also listed below, for the keyboard.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui.core.engine.values import Piece

SHADES = ((0.9, ""), (0.5, "on #3a3a1a"), (0.2, "on #5a3a10"), (0.0, "on #6a1a1a"))


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


class ConfidenceView(Vertical):
    def __init__(self, pieces: list[Piece]) -> None:
        super().__init__(classes="confidence")
        self.pieces = pieces

    def compose(self) -> ComposeResult:
        text = Text()
        for index, piece in enumerate(self.pieces):
            probability = piece.confidence.probability if piece.confidence else 1.0
            style = Style.parse(shade(probability) or "none") + Style(meta={"@click": f"show({index})"})
            text.append(piece.text, style)
        yield Static(Text("Token confidence (click a token):", "dim"))
        yield Static(text, classes="confidence-tokens")
        yield Static(self._least_likely(), classes="confidence-detail")

    def _least_likely(self, count: int = 3) -> Text:
        ranked = sorted(
            (p for p in self.pieces if p.confidence and p.text.strip()),
            key=lambda p: p.confidence.probability if p.confidence else 1.0,
        )
        lines = [describe(p) for p in ranked[:count]]
        return Text("Least likely: " + (" | ".join(lines) if lines else "none"), "dim")

    def action_show(self, index: int) -> None:
        self.query_one(".confidence-detail", Static).update(Text(describe(self.pieces[index])))
