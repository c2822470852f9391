"""Start-up: `llm-tui --version` and `--help` against a bare `python -c pass`, in the same run.

Each command runs in a fresh process; rounds alternate; medians of 15. The interpreter is the one
llm-tui is installed in, so the ratio is what llm-tui itself adds.

    python bench/startup.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMAND = str(Path(sys.executable).parent / "llm-tui")


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    runs = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "llm-tui --version": [COMMAND, "--version"],
        "llm-tui --help": [COMMAND, "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for argv in runs.values():
        timed(argv)  # warm the file cache
    for _ in range(args.rounds):
        for name, argv in runs.items():
            times[name].append(timed(argv))
    base = statistics.median(times["python -c pass"])
    print(f"{'':20} {'median ms':>10} {'vs python':>10}   ({args.rounds} rounds)")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:20} {1000 * median:10.1f} {median / base:10.2f}")


if __name__ == "__main__":
    main()
