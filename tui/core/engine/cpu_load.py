"""How many cores other work leaves free, so llama.cpp's threads do not wait on a descheduled peer.

llama.cpp's CPU threads meet at a spinning barrier several times per token: when another program
(a build, a browser) takes one of the cores, the thread on it is descheduled for a time slice and
the others spin until it comes back. Measured here (2 cores, one busy loop beside the decoder),
two threads decoded several times slower than one. So the automatic thread count is the physical
cores less those that other work keeps busy, read from ``/proc/stat`` (all of this machine's work
on the CPUs we may run on) minus ``/proc/self/stat`` (our own), over the last half second.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

WINDOW_SECONDS = 0.5
"""How often the load is looked at: short enough to follow a build starting, long enough for
/proc/stat's 100 ticks a second to say something (50 ticks a core)."""
BUSY_SHARE = 0.5
"""A core counts as taken when other work used at least half of one over the window."""


def _cpu_ids() -> set[str] | None:
    if not hasattr(os, "sched_getaffinity"):
        return None
    return {f"cpu{n}" for n in os.sched_getaffinity(0)}


def busy_ticks(stat: str, cpus: set[str] | None) -> int | None:
    """Ticks spent working (not idle or waiting on disk) on ``cpus`` (all when None), from /proc/stat."""
    total = 0
    seen = False
    for line in stat.splitlines():
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or name == "cpu" or (cpus is not None and name not in cpus):
            continue
        fields = rest.split()
        if len(fields) < 8 or not all(field.isdigit() for field in fields[:8]):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
        total += user + nice + system + irq + softirq + steal
        seen = True
    return total if seen else None


def own_ticks(self_stat: str) -> int | None:
    """User and system ticks of this process, all threads (fields 14 and 15 of /proc/self/stat)."""
    after_name = self_stat.rpartition(")")[2].split()  # the name may hold spaces and parentheses
    try:
        return int(after_name[11]) + int(after_name[12])
    except (IndexError, ValueError):
        return None


def others_cores(busy: int, own: int, seconds: float, hz: int) -> float:
    """Cores' worth of other work over a window: all work less ours, per second of the window."""
    if seconds <= 0:
        return 0.0
    return max(0, busy - own) / hz / seconds


def free_cores(cores: int, others: float) -> int:
    """``cores`` less those other work keeps busy, at least one."""
    return max(1, cores - int(others + 1 - BUSY_SHARE))


class FreeCores:
    """The automatic thread count, kept current by a daemon thread that wakes twice a second.

    Reading `threads` costs an attribute read, so the decode loop can look at it every token.
    Where /proc cannot be read (macOS, a locked-down container), it stays at ``cores``.
    """

    def __init__(self, cores: int, proc: Path = Path("/proc")) -> None:
        self.cores = cores
        self.threads = cores
        self.others = 0.0
        self._proc = proc
        self._cpus = _cpu_ids()
        self._hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._stop = threading.Event()
        self._last = self._sample()
        self._thread: threading.Thread | None = None
        if self._last is not None and cores > 1:
            self._thread = threading.Thread(target=self._watch, name="llm-tui cpu load", daemon=True)
            self._thread.start()

    def _sample(self) -> tuple[float, int, int] | None:
        try:
            busy = busy_ticks((self._proc / "stat").read_text(), self._cpus)
            own = own_ticks((self._proc / "self" / "stat").read_text())
        except OSError:
            return None
        if busy is None or own is None:
            return None
        return time.monotonic(), busy, own

    def _watch(self) -> None:
        while not self._stop.wait(WINDOW_SECONDS):
            now = self._sample()
            if now is None or self._last is None:
                continue
            (then, busy0, own0), (at, busy1, own1) = self._last, now
            self._last = now
            self.others = others_cores(busy1 - busy0, own1 - own0, at - then, self._hz)
            self.threads = free_cores(self.cores, self.others)

    def close(self) -> None:
        self._stop.set()
