"""Streaming one reply off the UI thread, handing text to the UI in batches, in turns with the decoder.

The model runs in a worker thread; this posts what it produces as messages, batched by time (a fast
GPU makes far more tokens per second than the screen has frames). After each batch the worker waits
until the screen has painted it before decoding on. That looks slower and is faster: llama.cpp's
threads spin at their barriers and expect every core, so a screen update running beside them
stalls the whole decode (on 2 cores, painting at 30 Hz beside the decoder halved its speed), while
the same update done in turn costs only its own few milliseconds. See bench/tui_decode.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from textual.message_pump import MessagePump

from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat, Session
from tui.core.engine.values import EngineError, Piece, ReplyStats
from tui.core.prompt.template import TemplateRenderError
from tui.ui.messages import ReplyChunk, ReplyFinished, ReplyStarted

FLUSH_SECONDS = 1 / 8
"""How often the screen gets new text while a reply streams."""
PAINT_WAIT = 0.5
"""Longest wait for the screen to paint a batch (it never blocks the decoder for longer)."""


def stream_reply(
    target: MessagePump,
    chat: Chat,
    text: str,
    cancel: threading.Event,
    session: int,
    sampling: Sampling | None = None,
    confidence: bool = False,
    save: Callable[[Session], None] | None = None,
) -> None:
    """Prepare, generate and report one turn; always ends with exactly one `ReplyFinished`.

    ``save`` is called here, in the worker, with the session the turn was recorded in, whatever
    ended the reply (done, stopped, an error, a new session, quit): the UI may have moved on.
    """
    try:
        prepared = chat.prepare(text)
    except (EngineError, TemplateRenderError) as exc:
        target.post_message(ReplyFinished(session, None, str(exc)))
        return
    except Exception as exc:  # noqa: BLE001 - a bug must not leave the UI waiting for ever
        target.post_message(ReplyFinished(session, None, _internal(exc)))
        return
    target.post_message(ReplyStarted(session, prepared))
    buffer: list[str] = []
    flushed = time.monotonic()
    stats: ReplyStats | None = None
    recorded_in = chat.session
    try:
        for event in chat.reply(prepared, text, cancel, sampling, confidence):
            if not isinstance(event, Piece):
                stats = event
                continue
            buffer.append(event.text)
            if time.monotonic() - flushed >= FLUSH_SECONDS:
                painted = threading.Event()
                target.post_message(ReplyChunk(session, "".join(buffer), painted))
                buffer.clear()
                if not cancel.is_set():
                    painted.wait(PAINT_WAIT)
                flushed = time.monotonic()
    except Exception as exc:  # noqa: BLE001 - EngineError is expected; anything else is reported too
        target.post_message(ReplyChunk(session, "".join(buffer)))
        message = str(exc) if isinstance(exc, EngineError) else _internal(exc)
        target.post_message(ReplyFinished(session, None, message))
        return
    finally:
        if save is not None:
            save(recorded_in)
    if buffer:
        target.post_message(ReplyChunk(session, "".join(buffer)))
    target.post_message(ReplyFinished(session, stats))


def _internal(exc: Exception) -> str:
    """An unexpected failure: a report file for us, one line for the user."""
    from tui.core.crash import write_report

    report = write_report(exc)
    where = f"; the full report is in {report}" if report else ""
    return f"internal error: {type(exc).__name__}: {exc}{where}"
