"""The valid range of every number a user can set, checked where the number enters.

Flags, persona files, catalog entries and ``state.toml`` all pass through here, so a context of
9999999999999, zero threads, a NaN temperature or a seed of 2**40 is refused with the range in the
message instead of reaching llama.cpp (where it is an allocation failure, a wrap-around or a crash).
"""

from __future__ import annotations

import math


class Range:
    """A closed range for one setting; ``high`` None means no upper bound.

    A plain class, not a dataclass or NamedTuple: `llm-tui --help` imports this module, and the
    dataclasses and typing modules would add 4 and 2 ms to it.
    """

    __slots__ = ("high", "integer", "low", "unit")

    def __init__(self, low: float, high: float | None, integer: bool, unit: str = "") -> None:
        self.low, self.high, self.integer, self.unit = low, high, integer, unit

    def __repr__(self) -> str:
        return f"Range({self.low!r}, {self.high!r}, {self.integer!r}, {self.unit!r})"

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        low = _fmt(self.low)
        if self.high is None:
            return f"{kind}, {low} or more{self.unit}"
        return f"{kind} from {low} to {_fmt(self.high)}{self.unit}"

    def check(self, value: object) -> str | None:
        """None when ``value`` is valid, else what was expected."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be {self.describe()}"
        if self.integer and not isinstance(value, int):
            return f"must be {self.describe()}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be {self.describe()}, not {value}"
        if value < self.low or (self.high is not None and value > self.high):
            return f"must be {self.describe()}, not {_fmt(value)}"
        return None


class Choice:
    """One of a few named values (a flash-attention mode, a KV cache type, a yes/no); same interface
    as `Range`, so every load setting is checked the same way wherever it enters."""

    __slots__ = ("values",)

    def __init__(self, *values: str | bool) -> None:
        self.values = values

    def __repr__(self) -> str:
        return f"Choice{self.values!r}"

    def describe(self) -> str:
        if all(isinstance(value, bool) for value in self.values):
            return "true or false"
        return "one of " + ", ".join(f'"{value}"' for value in self.values)

    def check(self, value: object) -> str | None:
        """None when ``value`` is one of the choices (a bool is not a number here, nor 1 a bool)."""
        if any(type(value) is type(choice) and value == choice for choice in self.values):
            return None
        return f"must be {self.describe()}, not {value!r}"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e18 else repr(value)


SEED_MAX = 2**32 - 1
MAX_CONTEXT = 2**24
"""16M tokens: above every trained context today; the memory check refuses most far below it."""

RANGES: dict[str, Range] = {
    "n_ctx": Range(16, MAX_CONTEXT, True, " tokens"),
    "n_threads": Range(1, 1024, True),
    "n_gpu_layers": Range(-1, 100_000, True, " (-1: all)"),
    "n_threads_batch": Range(1, 1024, True),
    "n_batch": Range(32, MAX_CONTEXT, True, " tokens"),
    "n_ubatch": Range(32, MAX_CONTEXT, True, " tokens"),
    "temperature": Range(0, 5, False),
    "top_p": Range(0, 1, False),
    "top_k": Range(0, 1_000_000, True),
    "min_p": Range(0, 1, False),
    "repeat_penalty": Range(0, 5, False),
    "seed": Range(0, SEED_MAX, True),
    "max_tokens": Range(1, 1_000_000, True),
}
"""Keyed by the setting's name in `Sampling`, `LoadOptions` and ``state.toml``."""

KV_CACHE_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")
"""What llama.cpp's own programs accept for ``--cache-type-k/-v``."""

CHOICES: dict[str, Choice] = {
    "flash_attn": Choice("auto", "on", "off"),
    "cache_type_k": Choice(*KV_CACHE_TYPES),
    "cache_type_v": Choice(*KV_CACHE_TYPES),
    "mmap": Choice(True, False),
    "repack": Choice(True, False),
}

LOAD_KEYS = (
    "n_ctx", "n_threads", "n_threads_batch", "n_gpu_layers", "flash_attn", "n_batch", "n_ubatch",
    "cache_type_k", "cache_type_v", "mmap", "repack",
)  # fmt: skip
"""Every setting of how a model is loaded, in `LoadOptions`, ``config.toml [engine]`` and per model."""

LOAD_CHECKS: dict[str, Range | Choice] = {key: RANGES.get(key) or CHOICES[key] for key in LOAD_KEYS}

FLAGS = {
    "n_ctx": "--ctx",
    "n_threads": "--threads",
    "n_gpu_layers": "--gpu-layers",
    "n_threads_batch": "--threads-batch",
    "flash_attn": "--flash-attn",
    "n_batch": "--batch-size",
    "n_ubatch": "--ubatch-size",
    "cache_type_k": "--cache-type-k",
    "cache_type_v": "--cache-type-v",
    "mmap": "--no-mmap",
    "repack": "--no-repack",
    "temperature": "--temperature",
    "seed": "--seed",
    "max_tokens": "--max-tokens",
}
