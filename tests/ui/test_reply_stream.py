"""The reply stream's pacing: the screen's own CPU time decides how often it gets new text."""

from __future__ import annotations

import gc
import sys
import threading
import time
import weakref

import pytest

from tui.core.chat.sampling import Sampling
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


class _Lender:
    """An engine's lending side only: whether it can lend, and what was asked of it."""

    def __init__(self, can: bool) -> None:
        self.can, self.calls = can, []

    def lend_core(self) -> bool:
        self.calls.append("lend")
        return self.can

    def take_core_back(self) -> None:
        self.calls.append("back")


def test_an_engine_that_lends_a_core_decodes_on_while_the_screen_paints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reply_stream, "PAINT_WAIT", 60.0)  # state decides here, not the clock
    engine = _Lender(can=True)
    painting = reply_stream.Painting(engine)  # type: ignore[arg-type]
    painted = threading.Event()
    painting.start(painted, threading.Event())  # returns with the batch not painted: no wait
    assert painting.busy and not painting.over()  # no new batch while this one is painted
    painted.set()
    assert painting.over() and not painting.busy and not painting.over()  # over once
    assert engine.calls == ["lend", "back"]


def test_an_engine_that_cannot_lend_waits_for_the_paint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reply_stream, "PAINT_WAIT", 60.0)
    engine = _Lender(can=False)
    painting = reply_stream.Painting(engine)  # type: ignore[arg-type]
    painted = threading.Event()
    threading.Timer(0.1, painted.set).start()
    painting.start(painted, threading.Event())
    assert painted.is_set()  # it returned only once the batch was on the screen
    assert painting.over() and engine.calls == ["lend"]


def test_a_paint_that_never_comes_gives_the_core_back_after_the_longest_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reply_stream, "PAINT_WAIT", 0.2)
    engine = _Lender(can=True)
    painting = reply_stream.Painting(engine)  # type: ignore[arg-type]
    painting.start(threading.Event(), threading.Event())
    assert not painting.over()
    time.sleep(0.25)
    assert painting.over() and engine.calls == ["lend", "back"]


def test_the_ui_thread_yields_pythons_lock_quickly_only_while_a_reply_streams() -> None:
    """Between tokens the decoder needs the GIL briefly; the default switch interval (5 ms) let a
    screen update keep it that long at every token. Restored afterwards, whatever ended the reply."""
    from tests.ui.helpers import FakeEngine
    from tui.core.chat.session import Chat

    seen = []

    class Watching(FakeEngine):
        def _stream(self, request):  # type: ignore[no-untyped-def]
            seen.append(sys.getswitchinterval())
            yield from super()._stream(request)

    class Target:
        def post_message(self, message: object) -> bool:
            painted = getattr(message, "painted", None)
            if painted is not None:
                painted.set()
            return True

    before = sys.getswitchinterval()
    chat = Chat(Watching(), None, Sampling(max_tokens=5))
    reply_stream.stream_reply(
        Target(),
        chat,
        lambda: chat.prepare("Hi"),
        threading.Event(),
        chat.session,  # type: ignore[arg-type]
    )
    assert seen == [reply_stream.GIL_SWITCH_SECONDS] and sys.getswitchinterval() == before
