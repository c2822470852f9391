"""The engine's plain values: what a model load and a reply produce, free of llama.cpp.

The session, transcripts, the UI and a future remote engine use these without loading libllama.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tui.core.problems import ProblemError

if TYPE_CHECKING:  # numpy stays unloaded until token confidence is asked for
    from tui.core.engine.confidence import Confidence

DEFAULT_CONTEXT = 4096
StopReason = Literal["end_of_turn", "max_tokens", "context_full", "cancelled"]


class EngineError(ProblemError):
    """Loading or running the model failed; the message is meant for the user."""


class EngineChanged(EngineError):
    """What runs the model changed under us (a server restarted with another model): load again."""


class ContextFullError(EngineError):
    """The prompt leaves no room in the context window for a reply."""


@dataclass(frozen=True)
class LoadOptions:
    """How to load a model; None means "choose for this machine"."""

    n_ctx: int | None = None
    n_threads: int | None = None
    n_gpu_layers: int | None = None


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
