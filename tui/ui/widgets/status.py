"""The status line: model, device and the settings that decide its speed, speed of the last reply,
whether the template thinks, and how full the context is."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static


class StatusLine(Static):
    model = reactive("loading model…")
    device = reactive("")
    speed = reactive(0.0)
    context_used = reactive(0)
    context_size = reactive(0)
    runs_with = reactive("")
    """Threads and flash attention (in-process; a server's are its own)."""
    thinking = reactive("")
    """"thinking on" / "thinking off" where the template reads ``enable_thinking`` (ctrl+t)."""

    def render(self) -> str:
        """Most needed first: a narrow terminal cuts the end of the line, not the context gauge."""
        parts = [self.model]
        if self.device:
            parts.append(self.device)
        if self.speed:
            parts.append(f"{self.speed:.1f} tok/s")
        if self.context_size:
            used, size = self.context_used, self.context_size
            parts.append(f"context {used}/{size} {_gauge(used, size)}")
        if self.thinking:
            parts.append(self.thinking)
        if self.runs_with:
            parts.append(self.runs_with)
        return "  ·  ".join(parts)


def _gauge(used: int, size: int, width: int = 10) -> str:
    filled = min(width, round(width * used / size)) if size else 0
    return "█" * filled + "░" * (width - filled)
