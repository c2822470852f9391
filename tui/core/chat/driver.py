"""The chat as the TUI drives it, without the screen: which session, which persona, the message
waiting for the model, the reply that can be stopped, and keeping the record.

The screen paints; this decides. It can be driven and tested headless.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Chat, Session
from tui.core.chat.settings import Overrides, SessionSettings, session_settings
from tui.core.chat.tree import Unanswered
from tui.core.engine.values import EngineInfo
from tui.core.personas.format import Persona
from tui.paths import Paths


@dataclass
class ChatDriver:
    """One chat's state between the UI and the core."""

    persona_id: str
    override: bool
    """--system/--no-system win until the user picks a persona."""
    overrides: Overrides = field(default_factory=Overrides)
    """The flags: --system/--no-system (while ``override``), --thinking, --chat-template-file."""
    base: Sampling = field(default_factory=Sampling)
    chat: Chat | None = None
    pending: list[str] = field(default_factory=list)
    """Messages typed before the model was ready: sent in order once it is."""
    cancel: threading.Event | None = None
    """Set to stop the reply now streaming (None: none is)."""
    unsent: list[str] = field(default_factory=list)
    """Messages typed before any model loaded, when the app closed: printed at exit, not lost."""

    @property
    def busy(self) -> bool:
        return self.cancel is not None

    def idle_chat(self) -> Chat | None:
        """The chat, when nothing streams or waits (branches change only between replies)."""
        return None if self.chat is None or self.busy or self.pending else self.chat

    def settings(self, persona: Persona | None) -> SessionSettings:
        """What a new session starts with: ``persona``'s settings (the step the CLI takes too),
        under --system/--no-system until another persona is picked."""
        return session_settings(persona, replace(self.overrides, replace_system=self.override), self.base)

    def saved_persona(self) -> str | None:
        """The persona the record names (None under a --system message of the user's own)."""
        return None if self.override else self.persona_id

    def use_persona(self, persona_id: str) -> None:
        self.persona_id, self.override = persona_id, False

    def begin_reply(self) -> threading.Event:
        """A reply starts: the event that stops it."""
        self.cancel = threading.Event()
        return self.cancel

    def reply_ended(self) -> str | None:
        """A reply ended: the next waiting message, if any (it is sent next)."""
        self.cancel = None
        return self.pending.pop(0) if self.pending and self.chat is not None else None

    def stop(self) -> bool:
        """Stop the reply streaming now (False: none was)."""
        if self.cancel is None:
            return False
        self.cancel.set()
        return True

    def stop_everything(self, why: str = "the app was closed") -> None:
        """Before quitting, switching model or session: stop the reply; messages still waiting are
        kept, unanswered, in the session (or in ``unsent`` when no model had loaded yet)."""
        if self.pending and self.chat is not None:
            session = self.chat.session
            for text in self.pending:
                session.unanswered.append(Unanswered(text, len(session.tree.turns), f"not sent: {why}"))
        else:
            self.unsent += self.pending
        self.pending.clear()
        self.stop()

    def save(self, paths: Paths, session: Session, info: EngineInfo, persona: str | None) -> str | None:
        """Write ``session``'s record (safe from a worker thread); the reason when it could not be."""
        from tui.core.chat import transcripts

        try:
            transcripts.save(paths, session, info, persona)
        except OSError as exc:
            return f"Could not save the session transcript: {exc.strerror or exc}"
        return None

    def saver(self, paths: Paths, info: EngineInfo, said: Callable[[str], None]) -> Callable[[Session], None]:
        """What a reply's worker calls with the session its turn was recorded in."""
        persona = self.saved_persona()

        def save(recorded: Session) -> None:
            if (problem := self.save(paths, recorded, info, persona)) is not None:
                said(problem)

        return save
