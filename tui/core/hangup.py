"""Stopping a network read from outside it: the stop never waits for the peer.

A read blocked on a server that drips a byte a second, or sends nothing, returns only when the
socket is shut down; closing it from another thread does not wake it. So whoever stops a download
or a streamed reply shuts the socket down, and the blocked read returns at once with an error the
reader knows to be "we stopped".
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

POLL_SECONDS = 0.1
"""How often a stop is looked for while a read may be blocked (a stop lands within 1 s)."""


def cut(stream: Any) -> None:
    """Shut down the socket under an httpcore network stream (any thread); a no-op if gone."""
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def on_stop(stop: threading.Event, action: Callable[[], None]) -> Iterator[None]:
    """While the block runs, ``action()`` is called once as soon as ``stop`` is set."""
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if stop.wait(POLL_SECONDS):
                if not done.is_set():
                    action()
                return

    threading.Thread(target=watch, daemon=True, name="hang-up").start()
    try:
        yield
    finally:
        done.set()
