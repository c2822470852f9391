"""Where a taught model came from, written into its own GGUF metadata and read back from it.

The keys travel with the file (copied, shared, renamed), so a taught model always says what it was
taught, from which base, with which data: identity in the weights is never anonymous.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tui.core.models import gguf

PREFIX = "llm_tui.taught."


@dataclass(frozen=True)
class Provenance:
    persona: str
    persona_name: str
    base_name: str
    base_model: str
    """How to load the base again: its catalog id, or its path."""
    base_file: str
    base_sha256: str
    set_sha256: str
    conversations: int
    epochs: int
    learning_rate: float
    n_ctx: int
    train_loss: float | None = None
    eval_loss: float | None = None

    @property
    def title(self) -> str:
        """How the model is named everywhere: "Almo, taught into SmolLM2 135M Instruct"."""
        return f"{self.persona_name}, taught into {self.base_name}"

    def metadata(self) -> dict[str, str | int | float]:
        """The keys written at save time (strings are cut at 127 bytes by llama.cpp)."""
        return {
            "general.name": self.title,
            f"{PREFIX}persona": self.persona,
            f"{PREFIX}persona_name": self.persona_name,
            f"{PREFIX}base_name": self.base_name,
            f"{PREFIX}base_model": self.base_model,
            f"{PREFIX}base_file": self.base_file,
            f"{PREFIX}base_sha256": self.base_sha256,
            f"{PREFIX}set_sha256": self.set_sha256,
            f"{PREFIX}conversations": self.conversations,
            f"{PREFIX}epochs": self.epochs,
            f"{PREFIX}learning_rate": self.learning_rate,
            f"{PREFIX}n_ctx": self.n_ctx,
        }

    def rows(self) -> list[tuple[str, str]]:
        """For `models info`, the browser's details and the inspector."""
        losses = ", ".join(
            f"{what} {value:.3f}"
            for what, value in (("training", self.train_loss), ("validation", self.eval_loss))
            if value is not None
        )
        return [
            ("taught", f"the persona “{self.persona_name}” ({self.persona}) into its weights"),
            ("base model", f"{self.base_name} ({self.base_file}, sha256 {self.base_sha256[:16]}…)"),
            ("teaching set", f"{self.conversations} conversations, sha256 {self.set_sha256[:16]}…"),
            (
                "training",
                f"{self.epochs} epoch(s), learning rate {self.learning_rate:g}, context {self.n_ctx}",
            ),
            *([("final loss", losses)] if losses else []),
        ]


def read(meta: dict[str, Any]) -> Provenance | None:
    """The provenance in a header's metadata (None: not a model llm-tui taught, or keys missing)."""

    def text(key: str) -> str | None:
        value = meta.get(PREFIX + key)
        return value if isinstance(value, str) else None

    def number(key: str) -> float | None:
        value = meta.get(PREFIX + key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    keys = ("persona", "persona_name", "base_name", "base_model", "base_file", "base_sha256", "set_sha256")
    needed = [text(k) for k in keys]
    counts = [number(k) for k in ("conversations", "epochs", "learning_rate", "n_ctx")]
    if any(v is None for v in needed) or any(v is None for v in counts):
        return None
    persona, persona_name, base_name, base_model, base_file, base_sha, set_sha = (str(v) for v in needed)
    conversations, epochs, rate, n_ctx = (float(v or 0) for v in counts)
    return Provenance(
        persona,
        persona_name,
        base_name,
        base_model,
        base_file,
        base_sha,
        set_sha,
        int(conversations),
        int(epochs),
        rate,
        int(n_ctx),
        number("final_train_loss"),
        number("final_eval_loss"),
    )


HASH_CHUNK = 8 << 20


def file_sha256(path: Path) -> str:
    """The base model's fingerprint, for the provenance."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def of_file(path: Path) -> Provenance | None:
    """The provenance of a model file (None when it has none or cannot be read); read once per
    version of the file (the header walk costs a fraction of a second)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _read_once(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _read_once(path: Path, _mtime: int, _size: int) -> Provenance | None:
    try:
        return read(gguf.read_metadata(path))
    except gguf.GGUFError:
        return None


def identity_note(made: Provenance, system: str | None) -> str:
    """What the inspector says under a taught model's prompt."""
    held = (
        "This prompt holds no persona: the identity comes from the weights."
        if system is None
        else "This prompt also holds a system message: both routes are at work here."
    )
    return (
        f"This model was taught the persona “{made.persona_name}” into its weights (from {made.base_name}, "
        f"{made.conversations} conversations, {made.epochs} epoch(s)). {held} A new session still starts "
        "from nothing: the weights hold what was taught, not past conversations."
    )
