"""Sampling settings for one reply, with an explicit seed every time."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Sampling:
    """Per-call sampling settings.

    ``seed`` None means "pick one now": `resolved()` draws it and the reply records which, so any
    reply can be reproduced. llama-cpp-python's own implicit seeding would make output depend on
    earlier calls, so the engine never relies on it.
    """

    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    max_tokens: int = 512
    seed: int | None = None

    def resolved(self) -> Sampling:
        if self.seed is not None:
            return self
        return replace(self, seed=random.randrange(2**31))

    def with_seed(self, seed: int | None) -> Sampling:
        return replace(self, seed=seed)
