"""The reply stream's pacing: the screen's own CPU time decides how often it gets new text."""

from __future__ import annotations

import gc
import threading
import time
import weakref

import pytest

from tui.ui import reply_stream
from tui.ui.reply_stream import FLUSH_SECONDS, SLOWEST_SECONDS, UI_SHARE, Pacer, settle_heap

needs_thread_clock = pytest.mark.skipif(
    not hasattr(time, "pthread_getcpuclockid"), reason="no per-thread CPU clock on this platform"
)


def _burn(seconds: float) -> None:
    """Spend ``seconds`` of this thread's CPU time (not wall time: sleeping costs none)."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


@needs_thread_clock
def test_a_costly_screen_gets_text_less_often_in_proportion_to_its_cost() -> None:
    pacer = Pacer(threading.get_ident())  # this thread plays the UI thread
    _burn(0.006)
    pacer.flushed()
    assert pacer.interval == pytest.approx(0.006 / UI_SHARE, rel=0.3)
    assert FLUSH_SECONDS < pacer.interval < SLOWEST_SECONDS


@needs_thread_clock
def test_the_interval_stays_between_its_bounds() -> None:
    pacer = Pacer(threading.get_ident())
    pacer.flushed()  # a cheap screen: as often as the fastest rate, no faster
    assert pacer.interval == FLUSH_SECONDS
    _burn(SLOWEST_SECONDS * UI_SHARE * 3)
    pacer.flushed()  # a very costly one: still at least twice a second
    assert pacer.interval == SLOWEST_SECONDS


@needs_thread_clock
def test_only_the_ui_threads_time_counts() -> None:
    """CPU spent by another thread (the decoder) must not slow the screen down."""
    pacer = Pacer(threading.get_ident())
    worker = threading.Thread(target=_burn, args=(0.05,))
    worker.start()
    worker.join()
    pacer.flushed()
    assert pacer.interval == FLUSH_SECONDS


def test_without_a_thread_clock_the_rate_is_fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(reply_stream.time, "pthread_getcpuclockid", raising=False)
    pacer = Pacer(threading.get_ident())
    _burn(0.05)
    pacer.flushed()
    assert pacer.interval == FLUSH_SECONDS


def test_due_follows_the_interval() -> None:
    pacer = Pacer(None)
    assert not pacer.due()
    time.sleep(FLUSH_SECONDS * 1.2)
    assert pacer.due()
    pacer.flushed()
    assert not pacer.due()


def test_settle_heap_freezes_what_exists_and_frees_garbage_first() -> None:
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    garbage = weakref.ref(Cycle())  # only a collection frees it
    before = gc.get_freeze_count()
    try:
        settle_heap()
        assert gc.get_freeze_count() > before
        assert garbage() is None  # collected, not pinned for ever
    finally:
        gc.unfreeze()
