"""llama.cpp through llama-cpp-python: load a GGUF, render and tokenize prompts, stream replies.

Of the core, only this module loads libllama (an import-linter contract in ``pyproject.toml`` says so;
the template fallback borrows llama-cpp-python's ChatML text). What it produces is plain data
(`tui.core.engine.values`, `Prompt`), so the CLI, the TUI and the tests all see the same thing.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import io
import threading
import time
from collections import deque
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path

import llama_cpp
import numpy as np

from tui.core.engine.base import Clock, EngineBase, Request
from tui.core.engine.confidence import Confidence
from tui.core.engine.confidence import from_logits as confidence_from_logits
from tui.core.engine.cpu_load import FreeCores
from tui.core.engine.hardware import physical_cores
from tui.core.engine.llama_load import (
    DECISIONS,
    FLASH_ATTN,
    KV_TYPES,
    loading_as_llama_cpp,
    resolved_flash_attn,
)
from tui.core.engine.sampler import sampler_chain
from tui.core.engine.values import (
    DEFAULT_CONTEXT,
    LLAMA_CPP_DEFAULTS,
    EngineError,
    EngineInfo,
    LoadOptions,
    Piece,
    ReplyStats,
    Runtime,
)
from tui.core.engine.vocab import VocabTokenizer
from tui.core.models import gguf
from tui.core.models.fit import check_memory
from tui.core.prompt.build import ControlToken
from tui.core.prompt.template import SANDBOX, ChatTemplate, fallback_template
from tui.core.settings.limits import FLAGS, LOAD_CHECKS

# --- llama.cpp's log: kept in memory, never written to the terminal ---------------------------

_LOG: deque[str] = deque(maxlen=400)


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
def _log_sink(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    line = text.decode("utf-8", errors="replace")
    _LOG.append(line)
    if "Flash Attention" in line and len(DECISIONS) < 100:
        DECISIONS.append(line)


_runtime_ready = False


def prepare_runtime() -> None:
    """Route llama.cpp's log into memory and initialise its backends.

    Call before a full-screen UI takes the terminal: llama.cpp writes straight to file descriptor 2
    otherwise, and llama-cpp-python's ``verbose=False`` works by redirecting descriptors 1 and 2,
    which would corrupt the screen. Safe to call more than once.
    """
    global _runtime_ready
    if _runtime_ready:
        return
    llama_cpp.llama_log_set(_log_sink, ctypes.c_void_p(0))
    llama_cpp.llama_backend_init()
    _runtime_ready = True


@contextlib.contextmanager
def quiet_python_output() -> Iterator[None]:
    """Swallow what llama-cpp-python prints while loading; for single-threaded callers (the CLI)."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        yield


def llama_log() -> list[str]:
    """The most recent lines llama.cpp logged (for error reports and `llm-tui info`)."""
    return "".join(_LOG).splitlines()


def gpu_offload_supported() -> bool:
    return bool(llama_cpp.llama_supports_gpu_offload())


def build_info() -> dict[str, str]:
    """Which llama.cpp this is and what it was built with."""
    return {
        "llama-cpp-python": llama_cpp.__version__,
        "gpu offload": "yes" if gpu_offload_supported() else "no (CPU build)",
        "system": llama_cpp.llama_print_system_info().decode("utf-8", errors="replace").strip(),
    }


class _Aborted(Exception):
    """llama.cpp stopped a decode because the abort callback said so (the user cancelled)."""


def _offloaded_layers(requested: int, blocks: int | None) -> int:
    """Layers llama.cpp puts on the GPU: the repeating blocks plus the output layer."""
    total = (blocks or 0) + 1
    return total if requested < 0 else min(requested, total)


# --- the engine -----------------------------------------------------------------------------


class Engine(EngineBase):
    """One loaded model. Generation is serialised: a ``Llama`` must not be used by two threads."""

    def __init__(self, path: Path, options: LoadOptions | None = None, name: str | None = None) -> None:
        """Load ``path``; ``name`` is how to call the model (default: the GGUF's own name)."""
        super().__init__()
        options = options or LoadOptions()
        prepare_runtime()
        if not path.is_file():
            raise EngineError(f"model file not found: {path}")
        try:
            meta = gguf.read_metadata(path)
        except gguf.GGUFError as exc:
            raise EngineError(str(exc)) from exc
        trained = gguf.trained_context(meta)
        n_ctx = options.n_ctx or min(trained or DEFAULT_CONTEXT, DEFAULT_CONTEXT)
        cores = physical_cores()
        n_threads = options.n_threads or cores
        offload = gpu_offload_supported()
        gpu_layers = options.n_gpu_layers
        if gpu_layers is None:
            gpu_layers = -1 if offload else 0
        wanted = options.merged(LoadOptions(**LLAMA_CPP_DEFAULTS))  # type: ignore[arg-type]
        checks = {"n_ctx": n_ctx, "n_threads": n_threads, "n_gpu_layers": gpu_layers}
        checks |= {key: getattr(wanted, key) for key in LLAMA_CPP_DEFAULTS}
        if wanted.n_threads_batch is not None:
            checks["n_threads_batch"] = wanted.n_threads_batch
        for setting, value in checks.items():
            problem = LOAD_CHECKS[setting].check(value)
            if problem and setting == "n_ctx" and options.n_ctx is None:  # nobody gave --ctx
                key = f"{gguf.architecture(meta)}.context_length"
                raise EngineError(f"{path}: its own {key} ({value}) {problem}; give one with --ctx")
            if problem:
                raise EngineError(f"{FLAGS[setting]} {problem}")
        check_memory(path, meta, n_ctx, on_gpu=offload and gpu_layers != 0)
        warnings: list[str] = []
        if trained and n_ctx > trained:
            warnings.append(
                f"context {n_ctx} is above the {trained} tokens {path.name} was trained on: "
                "replies past that length may fall apart"
            )
        n_threads_batch = wanted.n_threads_batch or n_threads
        context = {
            "flash_attn_type": FLASH_ATTN[str(wanted.flash_attn)],
            "n_batch": int(wanted.n_batch or 0),
            "n_ubatch": int(wanted.n_ubatch or 0),
            "type_k": KV_TYPES[str(wanted.cache_type_k)],
            "type_v": KV_TYPES[str(wanted.cache_type_v)],
            "n_threads_batch": n_threads_batch,
        }
        model_params: dict[str, int | bool] = {"use_extra_bufts": bool(wanted.repack)}
        if not wanted.mmap:
            model_params["load_mode"] = int(llama_cpp.LLAMA_LOAD_MODE_NONE)
        started = time.perf_counter()
        try:
            # verbose=True keeps llama-cpp-python from redirecting fds 1 and 2 (see
            # prepare_runtime). Its Python-level prints during the load go to sys.stderr, which
            # Textual captures while it runs; the CLI loads inside `quiet_python_output`.
            with loading_as_llama_cpp(context, model_params):
                llm = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    n_threads=n_threads,
                    n_threads_batch=n_threads_batch,
                    n_gpu_layers=gpu_layers,
                    verbose=True,
                )
                flash_attn = resolved_flash_attn(str(wanted.flash_attn))
        except Exception as exc:  # noqa: BLE001 - llama-cpp-python raises several kinds; all mean "no"
            detail = "; ".join(line.strip() for line in llama_log()[-3:] if line.strip())
            raise EngineError(f"could not load {path.name}: {exc}. {detail}".strip()) from exc
        ctx = llm._ctx.ctx
        runtime = Runtime(
            flash_attn=flash_attn,
            n_batch=int(llama_cpp.llama_n_batch(ctx)),
            n_ubatch=int(llama_cpp.llama_n_ubatch(ctx)),
            n_threads_batch=int(llama_cpp.llama_n_threads_batch(ctx)),
            cache_type_k=str(wanted.cache_type_k),
            cache_type_v=str(wanted.cache_type_v),
            mmap=llm.model_params.load_mode != llama_cpp.LLAMA_LOAD_MODE_NONE,
            repack=bool(llm.model_params.use_extra_bufts),
            threads_auto=options.n_threads is None,
        )
        self._threads_batch_fixed = wanted.n_threads_batch
        self._free = FreeCores(cores) if options.n_threads is None else None
        self._threads = n_threads
        self._lent = 0
        """Cores lent to a screen painting a batch (`lend_core`): 0 or 1."""
        llm.verbose = False
        self._llm = llm
        self._vocab = llm._model.vocab
        self.vocab = VocabTokenizer(llm)
        self._n_vocab = int(llm.n_vocab())
        self._cancel: threading.Event | None = None
        self._evaluated: list[int] = []
        """The tokens in the KV cache (sequence 0), in order."""
        self._abort_cb = llama_cpp.ggml_abort_callback(self._should_abort)
        bos, eos = self._token_text(llm.token_bos()), self._token_text(llm.token_eos())
        source = meta.get("tokenizer.chat_template")
        if isinstance(source, str) and source.strip():
            self.template = ChatTemplate(source, "the model's own chat template", bos, eos, n_ctx=llm.n_ctx())
        else:
            self.template = fallback_template(bos, eos, n_ctx=llm.n_ctx())
        self.own_template = self.template
        SANDBOX.start()  # the template process starts now, so the first prompt does not wait for it
        self.info = EngineInfo(
            path=path,
            name=name or str(meta.get("general.name") or path.stem),
            architecture=gguf.architecture(meta),
            n_ctx=llm.n_ctx(),
            n_ctx_train=trained,
            n_threads=n_threads,
            n_layers=gguf.block_count(meta),
            gpu_offload_supported=offload,
            gpu_layers=_offloaded_layers(gpu_layers, gguf.block_count(meta)) if offload else 0,
            template_name=self.template.name,
            load_seconds=time.perf_counter() - started,
            warnings=tuple(warnings),
            runtime=runtime,
        )

    # Tokenizer protocol (see tui.core.prompt.build) ---------------------------------------------

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        return self.vocab.tokenize(text, special)

    def piece(self, token: int) -> bytes:
        return self.vocab.piece(token)

    def is_special(self, token: int) -> bool:
        return self.vocab.is_special(token)

    def control_tokens(self) -> Mapping[str, ControlToken]:
        return self.vocab.control_tokens()

    def is_end(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self.piece(token).decode("utf-8", errors="replace")

    # Prompts and replies -------------------------------------------------------------------

    def _stream(self, request: Request) -> Generator[Piece | ReplyStats, None, None]:
        """Our own loop over llama.cpp's C API: evaluate what the cache lacks, then sample and decode.

        One token per `llama_decode`, llama.cpp's sampler chain (`sampler.py`), nothing else per token
        but the end check, the text and the cancel check (see bench/decode.py for what that costs).
        Setting ``cancel`` also stops a long prompt evaluation, through llama.cpp's abort callback.
        """
        prompt, s, cancel = request.prompt, request.sampling, request.cancel
        ids = prompt.ids
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stop = request.stop
        clock = Clock()
        reused = 0
        with sampler_chain(s, request.seed, self._n_vocab, ids) as chain:
            try:
                self._set_abort(cancel)
                self._lent = 0  # lent for one reply's paints at most
                self._follow_free_cores()
                reused = self._evaluate_prompt(ids)
                self._set_abort(None)  # per-node callbacks cost decode speed; poll between tokens instead
                ctx = self._llm._ctx.ctx
                while True:
                    token = llama_cpp.llama_sampler_sample(chain, ctx, -1)
                    clock.token()
                    if self.is_end(token):
                        stop = "end_of_turn"
                        break
                    clock.count += 1
                    sure = self._confidence(token) if request.confidence else None
                    yield Piece(token, decoder.decode(self.piece(token)), sure)
                    if cancel.is_set():
                        stop = "cancelled"
                        break
                    if clock.count >= request.tokens:
                        break
                    if self._free is not None and self._wanted_threads() != self._threads:
                        self._follow_free_cores()
                    self._decode([token])
            except _Aborted:
                stop = "cancelled"
            finally:
                self._set_abort(None)
        tail = decoder.decode(b"", final=True)
        if tail:
            yield Piece(-1, tail)
        yield clock.stats(prompt, reused, stop, request.seed)

    def _wanted_threads(self) -> int:
        assert self._free is not None
        return max(1, self._free.threads - self._lent)

    def _follow_free_cores(self) -> None:
        """With automatic threads, decode on the cores other work (or a painting screen) leaves free
        (see `cpu_load`)."""
        if self._free is None or self._wanted_threads() == self._threads:
            return
        self._threads = self._wanted_threads()
        # Prompt batches keep every core: their work between barriers is large, so a busy core
        # costs them less than a thread does (bench/decode.py --busy: 2 threads 1.07x of 1 for pp).
        batch = self._threads_batch_fixed or self._free.cores
        llama_cpp.llama_set_n_threads(self._llm._ctx.ctx, self._threads, batch)

    def lend_core(self) -> bool:
        """One core to the screen until `take_core_back`, with automatic threads on more than one.

        llama.cpp's threads meet at spinning barriers many times a token, so a screen update on a
        core one of them uses stalls all of them; on the cores the screen leaves, the decode goes on.
        """
        if self._free is None or self._free.threads < 2:
            return False
        self._lent = 1
        return True

    def take_core_back(self) -> None:
        self._lent = 0

    @property
    def threads_now(self) -> int:
        """The decode threads llama.cpp runs with now (follows the free cores when automatic)."""
        return int(llama_cpp.llama_n_threads(self._llm._ctx.ctx))

    def _evaluate_prompt(self, ids: list[int]) -> int:
        """Bring the KV cache to ``ids``: keep the common prefix, drop the rest, evaluate the remainder.

        At least the last token is always evaluated, so its logits are fresh for the first sample.
        Returns how many tokens came from the cache.
        """
        keep = 0
        for a, b in zip(self._evaluated, ids, strict=False):
            if a != b:
                break
            keep += 1
        keep = min(keep, len(ids) - 1)
        memory = llama_cpp.llama_get_memory(self._llm._ctx.ctx)
        llama_cpp.llama_memory_seq_rm(memory, 0, keep, -1)
        del self._evaluated[keep:]
        batch = max(1, int(llama_cpp.llama_n_batch(self._llm._ctx.ctx)))
        for start in range(keep, len(ids), batch):
            self._decode(ids[start : start + batch])
        return keep

    def _decode(self, tokens: list[int]) -> None:
        """One `llama_decode` of ``tokens`` after what is cached (logits for the last one only)."""
        array = (llama_cpp.llama_token * len(tokens))(*tokens)
        status = llama_cpp.llama_decode(self._llm._ctx.ctx, llama_cpp.llama_batch_get_one(array, len(tokens)))
        if status == 2:  # aborted through the abort callback (a cancel during the prompt)
            raise _Aborted
        if status != 0:
            raise EngineError(f"llama.cpp could not decode (status {status}); the context may be full")
        self._evaluated.extend(tokens)

    @property
    def evaluated_ids(self) -> list[int]:
        """The ids in the KV cache, in order: what the model has actually been fed (for tests)."""
        return list(self._evaluated)

    def _confidence(self, token: int) -> Confidence:
        """From the logits the sampler just used (no decode has happened since)."""
        row = llama_cpp.llama_get_logits_ith(self._llm._ctx.ctx, -1)
        logits = np.ctypeslib.as_array(row, shape=(self._n_vocab,))
        return confidence_from_logits(logits, token, self._token_text)

    def _should_abort(self, _data: ctypes.c_void_p) -> bool:
        cancel = self._cancel
        return cancel is not None and cancel.is_set()

    def _set_abort(self, cancel: threading.Event | None) -> None:
        self._cancel = cancel
        callback = self._abort_cb if cancel is not None else llama_cpp.ggml_abort_callback()  # NULL
        llama_cpp.llama_set_abort_callback(self._llm._ctx.ctx, callback, None)

    def reset(self) -> None:
        """Forget everything: the KV cache is cleared and no cached prefix is reused afterwards."""
        with self._lock:
            llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self._llm._ctx.ctx), True)
            self._evaluated.clear()

    @property
    def cached_tokens(self) -> int:
        """How many tokens the KV cache holds now (0 right after `reset`)."""
        return len(self._evaluated)

    def close(self) -> None:
        if self._free is not None:
            self._free.close()
        with self._lock:
            self._llm.close()
