"""Streaming one reply off the UI thread, handing text to the UI in batches, in turns with the decoder.

The model runs in a worker thread; this posts what it produces as messages, batched by time (a fast
GPU makes far more tokens per second than the screen has frames). llama.cpp's threads spin at their
barriers and expect every core, so a screen update running beside them stalls the whole decode.
So while the screen paints a batch, the decoder lends it a core (`EngineBase.lend_core`: one thread
fewer until the paint is done) or, where it cannot, waits until the batch is on the screen.

Every millisecond the UI thread computes is still time the decoder loses on a machine whose cores it
already uses. So the batches are paced by what the screen actually costs: the worker reads the UI
thread's own CPU clock and hands over text as often as 8 times a second, but no more often than
keeps the screen under `UI_SHARE` of one core (a Textual frame of a growing Markdown reply costs
several milliseconds, more on a big or busy screen). See bench/tui_decode.py.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Callable

from textual.message_pump import MessagePump

from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat, PreparedTurn, Session
from tui.core.chat.tree import Unanswered
from tui.core.engine.base import EngineBase
from tui.core.engine.values import EngineChanged, EngineError, Piece, ReplyStats
from tui.core.prompt.template import TemplateRenderError
from tui.ui.messages import ReplyChunk, ReplyFinished, ReplyStarted

FLUSH_SECONDS = 1 / 8
"""How often the screen gets new text while a reply streams."""
SLOWEST_SECONDS = 1 / 2
"""The least often the screen gets new text, however costly its updates."""
UI_SHARE = 0.04
"""The share of one core the screen may use while a reply streams."""
PAINT_WAIT = 0.5
"""Longest wait for the screen to paint a batch (it never blocks the decoder for longer)."""
GIL_SWITCH_SECONDS = 0.0005
"""How long the UI thread may keep Python's lock from the decoder while a reply streams. llama.cpp
runs without it, but between tokens the decoder needs it for a tenth of a millisecond; at Python's
default (5 ms) a screen update held it that long at every token it overlapped."""


def settle_heap() -> None:
    """Put what start-up built (Textual's DOM, the libraries, the model) out of the collector's way.

    Otherwise a full garbage collection walks all of it in the middle of a reply and stalls the
    screen, and with it the decode, for ~40 ms. `gc.freeze` is meant for such long-lived objects;
    the collection before it frees what start-up left over, so nothing is pinned needlessly.
    """
    gc.collect()
    gc.freeze()


class Pacer:
    """When to hand the screen its next batch, from the CPU time the UI thread spent on the last one."""

    def __init__(self, ui_thread: int | None) -> None:
        self._clock = _cpu_clock(ui_thread)
        self.interval = FLUSH_SECONDS
        self._since = time.monotonic()
        self._ui_cpu = self._ui_time()

    def due(self) -> bool:
        return time.monotonic() - self._since >= self.interval

    def flushed(self) -> None:
        """A batch was painted: the UI's CPU time since the last one sets the next interval."""
        ui_cpu = self._ui_time()
        if ui_cpu is not None and self._ui_cpu is not None:
            wanted = (ui_cpu - self._ui_cpu) / UI_SHARE
            self.interval = min(SLOWEST_SECONDS, max(FLUSH_SECONDS, wanted))
        self._since, self._ui_cpu = time.monotonic(), ui_cpu

    def _ui_time(self) -> float | None:
        return None if self._clock is None else time.clock_gettime(self._clock)


def _cpu_clock(thread: int | None) -> int | None:
    """The CPU-time clock of a thread of this process, where the platform has one (Linux, BSDs)."""
    if thread is None or not hasattr(time, "pthread_getcpuclockid"):
        return None
    try:
        clock = time.pthread_getcpuclockid(thread)
        time.clock_gettime(clock)
    except OSError:
        return None
    return clock


def stream_reply(
    target: MessagePump,
    chat: Chat,
    plan: Callable[[], PreparedTurn],
    cancel: threading.Event,
    session: Session,
    sampling: Sampling | None = None,
    confidence: bool = False,
    save: Callable[[Session], None] | None = None,
    ui_thread: int | None = None,
    user: str = "",
) -> None:
    """Prepare (``plan``: a new message, a regenerated or edited branch), generate and report one
    turn; always ends with exactly one `ReplyFinished`.

    ``save`` is called here, in the worker, with the session the turn was recorded in, whatever
    ended the reply (done, stopped, an error, a new session, quit): the UI may have moved on.
    ``ui_thread`` (the `threading.get_ident()` of the UI's thread) paces the batches. ``user`` is
    the message sent: when no reply to it could be made it is kept in the session as unanswered.
    """
    recorded_in = chat.session
    before = len(recorded_in.tree.turns)
    ending: Ending = (None, "the reply ended without a word on why", False)
    switch = sys.getswitchinterval()
    try:
        sys.setswitchinterval(min(switch, GIL_SWITCH_SECONDS))
        ending = _stream(target, chat, plan, cancel, session, sampling, confidence, ui_thread)
    except BaseException as exc:  # a bug must not leave the UI waiting for ever
        ending = (None, _internal(exc) if isinstance(exc, Exception) else "stopped", False)
        if not isinstance(exc, Exception):
            raise
    finally:
        sys.setswitchinterval(switch)
        made = recorded_in.tree.turns[before] if len(recorded_in.tree.turns) > before else None
        error = ending[1]
        if error and made is not None:
            made.error = error  # broke off: saved as cut, not as a reply that ended
        elif error:
            recorded_in.unanswered.append(Unanswered(user, before, error))
        if save is not None:
            try:
                save(recorded_in)
            except Exception as exc:  # noqa: BLE001 - the save reports its own failures; a bug too
                _internal(exc)
        target.post_message(ReplyFinished(session, *ending, made, recorded_in, user))


Ending = tuple[ReplyStats | None, str | None, bool]
"""How a reply ended: its stats, or the error said, and whether the model must be loaded again."""


def _stream(
    target: MessagePump,
    chat: Chat,
    plan: Callable[[], PreparedTurn],
    cancel: threading.Event,
    session: Session,
    sampling: Sampling | None,
    confidence: bool,
    ui_thread: int | None,
) -> Ending:
    """Prepare, generate and hand the screen its batches; how it ended is for the caller to report."""
    try:
        prepared = plan()
    except (EngineError, TemplateRenderError) as exc:
        return (None, str(exc), False)
    # The screen makes room for the reply (its most costly update) before llama.cpp starts.
    _post_and_wait(target, ReplyStarted(session, prepared, threading.Event()), cancel)
    batch = Batch(target, session)
    pacer = Pacer(ui_thread)
    stats: ReplyStats | None = None
    done = threading.Event()
    threading.Thread(target=batch.nudge, args=(done,), daemon=True, name="reply-nudge").start()
    painting = Painting(chat.engine)
    try:
        for event in chat.reply(prepared, cancel, sampling, confidence):
            if not isinstance(event, Piece):
                stats = event
                continue
            with batch.lock:
                batch.add(event)
                painted = threading.Event() if not painting.busy and pacer.due() else None
                if painted is not None:
                    batch.post(painted)
            if painted is not None:
                painting.start(painted, cancel)
            if painting.over():
                pacer.flushed()
    except Exception as exc:  # noqa: BLE001 - EngineError is expected; anything else is reported too
        message = str(exc) if isinstance(exc, EngineError) else _internal(exc)
        return (None, message, isinstance(exc, EngineChanged))
    finally:
        painting.end()
        done.set()
        with batch.lock:
            batch.post(None, always=False)
    return (stats, None, False)


class Painting:
    """The batch the screen is painting, and what the decoder does meanwhile.

    Where the engine can lend the screen a core (automatic threads on more than one), it decodes on
    the others until the paint is done; otherwise it waits for the paint, at most `PAINT_WAIT`.
    """

    def __init__(self, engine: EngineBase) -> None:
        self._engine = engine
        self._painted: threading.Event | None = None
        self._since = 0.0
        self._lent = False

    @property
    def busy(self) -> bool:
        return self._painted is not None

    def start(self, painted: threading.Event, cancel: threading.Event) -> None:
        self._painted, self._since = painted, time.monotonic()
        self._lent = self._engine.lend_core()
        if not self._lent and not cancel.is_set():
            painted.wait(PAINT_WAIT)

    def over(self) -> bool:
        """True once, when the batch being painted is on the screen (or waited for long enough)."""
        if self._painted is None:
            return False
        waited = time.monotonic() - self._since
        if self._lent and not self._painted.is_set() and waited < PAINT_WAIT:
            return False  # still painting, on the lent core
        self.end()
        return True

    def end(self) -> None:
        if self._lent:
            self._engine.take_core_back()
        self._painted, self._lent = None, False


class Batch:
    """Reply text the screen has not been handed yet, shared by the worker and its nudger.

    The worker hands text over when the pacer says; when the next token is slow to come (a server
    dripping, a long think), the nudger hands over what is waiting rather than let it sit unseen.
    """

    def __init__(self, target: MessagePump, session: Session) -> None:
        self.lock = threading.Lock()
        self._target, self._session = target, session
        self._answer: list[str] = []
        self._thinking: list[str] = []
        self._thought = 0
        self._last = time.monotonic()

    def add(self, piece: Piece) -> None:
        """Hold ``piece`` (the lock held)."""
        self._last = time.monotonic()
        if piece.kind == "thinking":
            self._thought += piece.token >= 0  # split-off parts of one token carry no token
            if self._answer:  # thinking again after an answer began: what came before goes first
                self.post(None)
            self._thinking.append(piece.text)
        elif piece.kind == "answer":
            self._answer.append(piece.text)

    def post(self, painted: threading.Event | None, always: bool = True) -> None:
        """Hand over what is held (the lock held); ``painted`` is set once the screen shows it."""
        if always or self._answer or self._thinking:
            answer, thinking = "".join(self._answer), "".join(self._thinking)
            self._target.post_message(ReplyChunk(self._session, answer, painted, thinking, self._thought))
            self._answer.clear()
            self._thinking.clear()

    def nudge(self, done: threading.Event) -> None:
        """Until ``done``: text held while no token came for `SLOWEST_SECONDS` goes to the screen."""
        while not done.wait(SLOWEST_SECONDS / 2):
            with self.lock:
                if time.monotonic() - self._last >= SLOWEST_SECONDS:
                    self.post(None, always=False)


def _post_and_wait(target: MessagePump, message: ReplyStarted | ReplyChunk, cancel: threading.Event) -> None:
    """Hand the screen an update and let it paint before the decoder takes the cores back."""
    target.post_message(message)
    if message.painted is not None and not cancel.is_set():
        message.painted.wait(PAINT_WAIT)


def _internal(exc: Exception) -> str:
    """An unexpected failure: a report file for us, one line for the user."""
    from tui.core.crash import write_report

    report = write_report(exc)
    where = f"; the full report is in {report}" if report else ""
    return f"internal error: {type(exc).__name__}: {exc}{where}"
