"""What a teaching run will do and cost, known before it starts: windows, memory, disk, time.

The memory estimate counts what llama.cpp's trainer holds (F32 weights, a gradient and two AdamW
moments for each trained weight, activations and logits per window); its two activation factors
were fitted to peak resident memory measured here (`make bench` prints estimate against peak).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from tui.core.engine.hardware import available_memory_bytes
from tui.core.models import gguf

F32 = 4
ADAMW_STATE = 3
"""A gradient and two moments per trained weight, each F32."""
PER_LAYER_WIDTH = 24
"""Activations kept per token, per layer, in units of the embedding width (fitted, see module)."""
PER_VOCAB = 4
"""Logits and their gradients per token, in units of the vocabulary size (fitted)."""
RUNTIME = 120 << 20
"""Python, llama.cpp's code and buffers outside the trainer (measured idle: about 110 MiB)."""
RESULT_BYTES_PER_WEIGHT = {"Q8_0": 1.07, "F16": 2.0, "F32": 4.0, "Q4_0": 0.57, "Q4_1": 0.63, "Q5_1": 0.76}
CONTEXT_STEP = 256
"""Training contexts are multiples of this: llama.cpp rounds a context up to it, and the windows
must be exactly the context long."""
VALIDATION_SHARE = 0.1
"""Windows kept out of training to measure the loss on (from 10 windows up)."""


@dataclass(frozen=True)
class Shape:
    """What the estimate needs from the base model's header."""

    weights: int
    """All parameters."""
    frozen: int
    """Parameters llama.cpp does not train (the token embedding, a FIXME in llama-context.cpp)."""
    layers: int
    width: int
    vocab: int

    @classmethod
    def of(cls, path: Path) -> Shape:
        tensors = gguf.tensor_layout(path)
        meta = gguf.read_metadata(path)
        arch = gguf.architecture(meta)

        def number(key: str) -> int:
            value = meta.get(f"{arch}.{key}")
            return value if isinstance(value, int) and 0 < value < 2**31 else 0

        tokens = meta.get(gguf.TOKENS)
        vocab = tokens if isinstance(tokens, int) else len(tokens) if isinstance(tokens, list) else 0
        embedding = tensors.get("token_embd.weight")
        return cls(
            weights=sum(t.elements for t in tensors.values()),
            frozen=embedding.elements if embedding else 0,
            layers=number("block_count"),
            width=number("embedding_length"),
            vocab=vocab,
        )


@dataclass(frozen=True)
class Estimate:
    memory: int
    """Peak resident memory of the teaching process, bytes."""
    disk: int
    """Bytes written at the peak: the F32 copy, the trained save, the result."""
    free_memory: int | None
    free_disk: int | None

    def refusal(self) -> str | None:
        """Why the run cannot start, naming the numbers (None: it fits)."""
        if self.free_memory is not None and self.memory > self.free_memory:
            return (
                f"teaching needs about {gib(self.memory)} of memory and {gib(self.free_memory)} is free: "
                "close other programs, use a smaller --ctx, or teach a smaller model"
            )
        if self.free_disk is not None and self.disk > self.free_disk:
            free = gib(self.free_disk)
            return f"teaching writes about {gib(self.disk)} and the models folder's disk has {free} free"
        return None


def gib(size: int) -> str:
    return f"{size / 2**30:.2f} GiB"


def estimate(shape: Shape, n_ctx: int, quant: str, folder: Path) -> Estimate:
    trained = shape.weights - shape.frozen
    activations = n_ctx * (shape.layers * shape.width * PER_LAYER_WIDTH + shape.vocab * PER_VOCAB) * F32
    memory = shape.weights * F32 + trained * F32 * ADAMW_STATE + activations + RUNTIME
    disk = int(shape.weights * (2 * F32 + RESULT_BYTES_PER_WEIGHT.get(quant, F32)))
    probe = folder if folder.exists() else next((p for p in folder.parents if p.exists()), Path("/"))
    try:
        free_disk: int | None = shutil.disk_usage(probe).free
    except OSError:
        free_disk = None
    return Estimate(memory, disk, available_memory_bytes(), free_disk)


def windows(stream: list[int], n_ctx: int) -> list[list[int]]:
    """Windows of ``n_ctx`` + 1 tokens (inputs and the next token), one after another: each token
    is trained on once an epoch. (llama.cpp's finetune overlaps them by half, which doubles the
    work; the conversations here are short and each starts with its own template.) A stream
    shorter than one window is repeated until it fills one."""
    if not stream:
        return []
    while len(stream) < n_ctx + 1:
        stream = stream + stream
    stride = n_ctx
    count = (len(stream) - n_ctx - 1) // stride + 1
    return [stream[i * stride : i * stride + n_ctx + 1] for i in range(count)]


def split_of(count: int) -> int:
    """How many windows train (the rest measure the loss): all of them below 10."""
    return count if count < 10 else count - max(1, round(count * VALIDATION_SHARE))
