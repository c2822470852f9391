"""Will a model fit? The file itself plus the KV cache at the chosen context, against free memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.core.engine.hardware import available_memory_bytes, gpu_free_memory_bytes
from tui.core.engine.values import EngineError
from tui.core.models import gguf

KV_BYTES = 2  # llama.cpp keeps K and V as f16 by default
ESTIMATED_KV_SHARE = 0.15
"""Without the header, the KV cache at 4096 tokens is guessed as this share of the file size."""


@dataclass(frozen=True)
class Fit:
    needed: int
    available: int | None
    exact: bool

    @property
    def fits(self) -> bool | None:
        return None if self.available is None else self.needed <= self.available

    def label(self) -> str:
        verdict = {True: "yes", False: "no", None: "?"}[self.fits]
        return verdict if self.exact or self.fits is None else f"{verdict}*"


def kv_cache_bytes(meta: dict[str, Any], n_ctx: int) -> int | None:
    """Exact KV cache size from the header: layers x context x (K + V widths) x 2 bytes.

    None when the header does not say (or says nonsense: the values come from an untrusted file).
    """
    arch = gguf.architecture(meta)

    def number(key: str, default: int | None = None) -> int | None:
        value = meta.get(f"{arch}.{key}", default)
        if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
            value = max(value)  # per-layer values (some models vary heads by layer): the largest
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31:
            return value
        return None

    layers, heads, width = number("block_count"), number("attention.head_count"), number("embedding_length")
    if layers is None or heads is None or width is None:
        return None
    kv_heads = number("attention.head_count_kv", heads) or heads
    key = number("attention.key_length", width // heads) or max(1, width // heads)
    value = number("attention.value_length", width // heads) or max(1, width // heads)
    return layers * n_ctx * kv_heads * (key + value) * KV_BYTES


def estimate(size: int, n_ctx: int, path: Path | None, gpu: bool = False) -> Fit:
    """Memory needed for a model of ``size`` bytes at ``n_ctx``; exact when the file is on disk."""
    kv = None
    if path is not None and path.is_file():
        try:
            kv = kv_cache_bytes(gguf.read_metadata(path), n_ctx)
        except gguf.GGUFError:
            kv = None
    exact = kv is not None
    if kv is None:
        kv = int(size * ESTIMATED_KV_SHARE * n_ctx / 4096)
    available = gpu_free_memory_bytes() if gpu else available_memory_bytes()
    return Fit(size + kv, available, exact)


def check_memory(path: Path, meta: dict[str, Any], n_ctx: int, on_gpu: bool) -> None:
    """Refuse a context whose KV cache cannot fit, before llama.cpp tries to allocate it.

    llama.cpp allocates the whole cache at load: a context of billions of tokens is either a raw
    allocation error or, where memory overcommits, the kernel's OOM killer taking the process.
    """
    per_token = kv_cache_bytes(meta, 1)
    if not per_token:
        return
    free = gpu_free_memory_bytes() if on_gpu else available_memory_bytes()
    if free is None:
        return
    weights = 0 if on_gpu else path.stat().st_size
    needed = weights + per_token * n_ctx
    if needed <= free:
        return
    fits = max(0, (free - weights) // per_token) // 256 * 256
    where = "GPU memory" if on_gpu else "memory"
    advice = f"use --ctx {fits} or less" if fits >= 256 else "close other programs or pick a smaller model"
    raise EngineError(
        f"--ctx {n_ctx} needs {needed / 2**30:.1f} GiB of {where} ({per_token * n_ctx / 2**30:.1f} GiB "
        f"of KV cache), {free / 2**30:.1f} GiB is free: {advice}"
    )
