"""Messages the background workers post to the UI; the core never calls the UI directly."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from tui.core.chat.session import ChatEngine, PreparedTurn, Session
from tui.core.chat.tree import Turn
from tui.core.engine.values import ReplyStats

if TYPE_CHECKING:
    from tui.core.models.downloads import Progress  # the hub client is not needed for the first frame


@dataclass
class EngineReady(Message):
    engine: ChatEngine
    model: str | None = None


@dataclass
class EngineFailed(Message):
    error: str
    no_model: bool = False
    """True when there is no model at all to load (not even the embedded one)."""


@dataclass
class ReplyStarted(Message):
    session: Session
    """The session on screen when the reply was asked for: its view shows it."""
    prepared: PreparedTurn
    painted: threading.Event | None = None
    """Set once the reply's place is on the screen: the worker waits for it before evaluating."""


@dataclass
class ReplyChunk(Message):
    session: Session
    text: str
    painted: threading.Event | None = None
    """Set once the text is on the screen: the reply worker waits for it before decoding on."""
    thinking: str = ""
    """Thinking that came before ``text`` in this batch (a reasoning model's)."""
    thinking_tokens: int = 0
    """Thinking tokens so far in this reply."""


@dataclass
class ReplyFinished(Message):
    """Always posted once per reply, also after an error (then ``stats`` is None)."""

    session: Session
    stats: ReplyStats | None
    error: str | None = None
    reload: bool = False
    """The engine must be loaded again (the server now runs another model)."""
    turn: Turn | None = None
    """The turn the reply was recorded as (None: nothing was, e.g. the prompt could not be made)."""
    recorded_in: Session | None = None
    """The session it was sent in (the UI may have started another meanwhile)."""
    user: str = ""
    """The message the reply answers (given back to the box when the model changed under it)."""


@dataclass
class SessionStarted(Message):
    session: Session
    reason: str = ""
    reopened: bool = False
    """The session holds a saved transcript's turns, to be shown."""


class PersonasChanged(Message):
    """Persona files changed on disk; `app.personas` holds the reloaded set."""


@dataclass
class DownloadProgress(Message):
    model_id: str
    progress: Progress


@dataclass
class DownloadFinished(Message):
    model_id: str
    error: str | None
