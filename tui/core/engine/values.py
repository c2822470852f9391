"""The engine's plain values: what a model load and a reply produce, free of llama.cpp.

The session, transcripts, the UI and a future remote engine use these without loading libllama.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from tui.core.problems import ProblemError

if TYPE_CHECKING:  # numpy stays unloaded until token confidence is asked for
    from tui.core.engine.confidence import Confidence

DEFAULT_CONTEXT = 4096
StopReason = Literal["end_of_turn", "max_tokens", "context_full", "cancelled"]
STOP_REASONS: tuple[str, ...] = get_args(StopReason)


class EngineError(ProblemError):
    """Loading or running the model failed; the message is meant for the user."""


class EngineChanged(EngineError):
    """What runs the model changed under us (a server restarted with another model): load again."""


class ContextFullError(EngineError):
    """The prompt leaves no room in the context window for a reply."""


@dataclass(frozen=True)
class LoadOptions:
    """How to load a model; None means llama.cpp's own programs' choice (see `LLAMA_CPP_DEFAULTS`).

    ``n_threads`` None is "auto": physical cores less those busy with other work, looked at again
    while replies run (`tui.core.engine.cpu_load`).
    """

    n_ctx: int | None = None
    n_threads: int | None = None
    n_gpu_layers: int | None = None
    n_threads_batch: int | None = None
    flash_attn: str | None = None
    n_batch: int | None = None
    n_ubatch: int | None = None
    cache_type_k: str | None = None
    cache_type_v: str | None = None
    mmap: bool | None = None
    repack: bool | None = None

    def merged(self, fallback: LoadOptions) -> LoadOptions:
        """These options, with ``fallback``'s where these say nothing (flags over saved over config)."""
        values = {key: getattr(self, key) for key in self.__dataclass_fields__}
        return LoadOptions(
            **{key: getattr(fallback, key) if value is None else value for key, value in values.items()}
        )


LLAMA_CPP_DEFAULTS = {
    "flash_attn": "auto",
    "n_batch": 2048,
    "n_ubatch": 512,
    "cache_type_k": "f16",
    "cache_type_v": "f16",
    "mmap": True,
    "repack": True,
}
"""What llama-cli, llama-server and llama-bench use when not told otherwise (common/common.h), and
so llm-tui too; llama-cpp-python's own differ (flash attention off, batch 512, all logical cores
for the prompt). ``n_threads_batch`` follows ``n_threads``, as in llama.cpp."""


@dataclass(frozen=True)
class Runtime:
    """The settings llama.cpp runs with, read back from the context and its log after loading."""

    flash_attn: str
    """"on" or "off", as llama.cpp resolved it; "auto (on)" when it chose."""
    n_batch: int
    n_ubatch: int
    n_threads_batch: int
    cache_type_k: str
    cache_type_v: str
    mmap: bool
    repack: bool
    threads_auto: bool = False
    """The thread count follows the free cores (no --threads, no saved or configured count)."""

    def rows(self) -> list[tuple[str, str]]:
        """Label and value, for `llm-tui info` and the model details."""
        return [
            ("flash attention", self.flash_attn),
            ("batch / micro-batch", f"{self.n_batch} / {self.n_ubatch} tokens"),
            ("prompt threads", str(self.n_threads_batch)),
            ("KV cache", f"K {self.cache_type_k}, V {self.cache_type_v}"),
            ("weights", ("memory-mapped" if self.mmap else "read into memory")
             + (", repacked for this CPU" if self.repack else ", not repacked")),
        ]  # fmt: skip


@dataclass(frozen=True)
class EngineInfo:
    """What the engine did when it loaded, for the status line and `llm-tui info`."""

    path: Path
    name: str
    architecture: str
    n_ctx: int
    n_ctx_train: int | None
    n_threads: int
    n_layers: int | None
    gpu_offload_supported: bool
    gpu_layers: int
    template_name: str
    load_seconds: float
    warnings: tuple[str, ...] = ()
    """Said once when the model loads: a context above the trained length, for example."""
    server: str | None = None
    """``host:port`` of the llama-server that runs the model; None when it runs in this process."""
    runtime: Runtime | None = None
    """How llama.cpp runs it (flash attention, batches, KV cache); None where it cannot be known."""

    @property
    def device(self) -> str:
        if self.server is not None:
            return f"llama-server {self.server}"
        if self.gpu_layers <= 0:
            return "CPU"
        return f"GPU {self.gpu_layers}/{(self.n_layers or 0) + 1} layers"


@dataclass(frozen=True)
class Piece:
    """A streamed part of a reply: the token sampled and the text it completes (may be empty)."""

    token: int
    text: str
    confidence: Confidence | None = None
    """Only when asked for: how likely the model found this token, and the runners-up."""
    kind: Literal["answer", "thinking", "markup"] = "answer"
    """Set by the session (tui.core.chat.thinking): thinking, the answer, or a marker between them."""


@dataclass(frozen=True)
class ReplyStats:
    prompt_tokens: int
    reused_tokens: int
    completion_tokens: int
    time_to_first_token: float
    decode_seconds: float
    stop: StopReason
    seed: int

    @property
    def tokens_per_second(self) -> float:
        if self.completion_tokens < 2 or self.decode_seconds <= 0:
            return 0.0
        return (self.completion_tokens - 1) / self.decode_seconds
