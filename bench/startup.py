"""Start-up: `llm-tui --version` and `--help` against a bare `python -c pass`, and the TUI's first
painted frame against a minimal Textual app's (bench/minimal_app.py), in the same run.

Two floors are timed beside them: argparse alone printing an empty parser's help, and a Textual
app made of the chat screen's widgets with no llm-tui code (bench/widgets_app.py): what the
libraries cost before llm-tui adds anything.

Each command runs in a fresh process; rounds alternate; medians. The interpreter is the one llm-tui
is installed in, so the ratio is what llm-tui itself adds. A first frame is timed from the start of
the process until the app has written its first full screen to a pseudo-terminal of 120x40
(the footer's last key for llm-tui, the one line of the minimal app).

Bytecode caches are written and used, as on a user's machine (this project's machines set
PYTHONDONTWRITEBYTECODE, which would make every llm-tui module compile from source each time).

    python bench/startup.py [--rounds 15] [--frames 11]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

COMMAND = str(Path(sys.executable).parent / "llm-tui")
MINIMAL_APP = str(Path(__file__).with_name("minimal_app.py"))
WIDGETS_APP = str(Path(__file__).with_name("widgets_app.py"))
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - started


def first_frame(argv: list[str], marker: bytes, home: str) -> float:
    """Seconds from starting ``argv`` on a fresh 120x40 terminal until ``marker`` is on it."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**ENV, "TERM": "xterm-256color", "LLM_TUI_HOME": home}
    started = time.perf_counter()
    app = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    seen, deadline = b"", time.monotonic() + 30
    try:
        while marker not in seen:
            if time.monotonic() > deadline or not select.select([leader], [], [], 1)[0]:
                raise SystemExit(f"no first frame from {argv}: {seen[-300:]!r}")
            seen = seen[-4096:] + os.read(leader, 65536)
        return time.perf_counter() - started
    finally:
        app.kill()
        app.wait()
        os.close(leader)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--frames", type=int, default=11, help="rounds of the first-frame comparison")
    args = parser.parse_args()
    runs = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "llm-tui --version": [COMMAND, "--version"],
        "llm-tui --help": [COMMAND, "--help"],
        "argparse alone": [
            sys.executable,
            "-c",
            "import argparse; argparse.ArgumentParser(prog='x').print_help()",
        ],
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
    apps = {
        "minimal Textual app": ([sys.executable, MINIMAL_APP], b"first frame"),
        "its widgets alone": ([sys.executable, WIDGETS_APP], b"palette"),
        "llm-tui (TUI)": ([COMMAND], b"palette"),
    }
    frames: dict[str, list[float]] = {name: [] for name in apps}
    with tempfile.TemporaryDirectory() as home:
        for argv, marker in apps.values():
            first_frame(argv, marker, home)  # warm the file cache
        for _ in range(args.frames):
            for name, (argv, marker) in apps.items():
                frames[name].append(first_frame(argv, marker, home))
    base = statistics.median(frames["minimal Textual app"])
    print(f"\n{'first frame':20} {'median ms':>10} {'vs minimal':>10}   ({args.frames} rounds)")
    for name, values in frames.items():
        median = statistics.median(values)
        print(f"{name:20} {1000 * median:10.1f} {median / base:10.2f}")


if __name__ == "__main__":
    main()
