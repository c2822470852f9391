"""How sure the model was of each token it produced: its probability, and the runners-up.

Taken from the logits of each sampling step as they are (one row of vocabulary size), never with
``logits_all``, which would keep a context-by-vocabulary matrix. Probabilities are the model's own
distribution (softmax of the logits, temperature 1), before any sampler reshapes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

TOP = 5


@dataclass(frozen=True)
class Alternative:
    token: int
    text: str
    probability: float


@dataclass(frozen=True)
class Confidence:
    probability: float
    """The probability the model gave the token it produced."""
    alternatives: tuple[Alternative, ...]
    """The most likely tokens at that step, most likely first (the produced one may be among them)."""


def from_logits(
    logits: npt.NDArray[np.float32], token: int, text_of: Callable[[int], str], top: int = TOP
) -> Confidence:
    shifted = logits - logits.max()
    weights = np.exp(shifted)
    total = float(weights.sum())
    best = np.argpartition(weights, -top)[-top:]
    best = best[np.argsort(weights[best])[::-1]]
    alternatives = tuple(Alternative(int(t), text_of(int(t)), float(weights[t] / total)) for t in best)
    return Confidence(float(weights[token] / total), alternatives)
