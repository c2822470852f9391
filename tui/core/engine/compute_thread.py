"""One thread for all of llama.cpp's computing in a long-running process (the TUI).

llama-cpp-python builds llama.cpp with OpenMP, which keeps a team of helper threads for each thread
that computes. With teams from two threads on the same cores, libgomp has more threads than cores and
stops spinning at its barriers: decoding from a second thread ran at half speed here (94 against
171 tokens/s, SmolLM2 on 2 cores), and the TUI loads the model on one thread and streamed replies on
others. So everything that loads or decodes runs here, on one long-lived thread, and the caller
waits for it (the CLI, which does both on its main thread, needs none of this).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")


def on_compute_thread(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run ``fn`` on the compute thread and wait for it; its exception is raised here."""
    return _EXECUTOR.submit(fn, *args, **kwargs).result()
