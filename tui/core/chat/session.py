"""Sessions: the transcript the model is re-sent every turn, and nothing more.

The model keeps nothing between turns: each turn renders the whole transcript again, and only the
KV cache (a speed-up, not memory) lets the engine skip the tokens it has already seen. A new session
clears that cache as well, so nothing of the old session can reach the model.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from tui.core.chat.sampling import Sampling
from tui.core.chat.thinking import ThinkingSplitter, opened_by_prompt
from tui.core.engine.values import ContextFullError, EngineInfo, Piece, ReplyStats
from tui.core.prompt.build import Prompt
from tui.core.prompt.messages import Message


class _Keep:
    """Marks "keep the current system message" (None already means "no system message")."""


KEEP = _Keep()


class ChatEngine(Protocol):
    """What a session needs from a model; `tui.core.engine.llama.Engine` is the real one."""

    info: EngineInfo

    def build_prompt(
        self,
        messages: Sequence[Message],
        parse_special: bool = False,
        variables: Mapping[str, object] | None = None,
        continue_final: bool = False,
    ) -> Prompt: ...

    def generate(
        self,
        prompt: Prompt,
        sampling: Sampling,
        cancel: threading.Event | None = None,
        confidence: bool = False,
    ) -> Iterator[Piece | ReplyStats]: ...

    def reset(self) -> None: ...

    def use_template_file(self, path: Path) -> None: ...

    def close(self) -> None: ...


@dataclass
class Turn:
    """One exchange, with the exact prompt it was sent as and how the reply ended."""

    user: str
    prompt: Prompt
    reply: str = ""
    """The answer: the reply without its thinking."""
    stats: ReplyStats | None = None
    pieces: list[Piece] = field(default_factory=list)
    """The reply token by token, kept only when token confidence was asked for."""
    thinking: str = ""
    """What a reasoning model thought before answering (tui.core.chat.thinking)."""
    written: str = ""
    """The reply exactly as generated, thinking markup included."""

    def as_message(self) -> Message:
        """This reply as the next prompt passes it; the template decides what of it is sent."""
        return Message("assistant", self.reply, self.thinking or None, self.written or None)


@dataclass(frozen=True)
class PreparedTurn:
    prompt: Prompt
    dropped: tuple[int, ...]
    """Indices of earlier turns left out of this prompt (and every later one) to fit the context."""


@dataclass
class Session:
    system: str | None
    sampling: Sampling
    number: int = 1
    turns: list[Turn] = field(default_factory=list)
    first_kept: int = 0
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    parse_special: bool = False
    """The persona's opt-in: special tokens typed in this session's messages become control tokens."""
    variables: dict[str, object] = field(default_factory=dict)
    """The chat template's own variables for this session (``enable_thinking``, ...)."""

    def messages(self, user_text: str, first_turn: int | None = None) -> list[Message]:
        """System message (if any), the kept turns, then the new user message."""
        start = self.first_kept if first_turn is None else first_turn
        messages = [Message("system", self.system)] if self.system else []
        for turn in self.turns[start:]:
            messages += [Message("user", turn.user), turn.as_message()]
        messages.append(Message("user", user_text))
        return messages

    def prepare(self, engine: ChatEngine, user_text: str, commit: bool = True) -> PreparedTurn:
        """The prompt for ``user_text``, dropping the oldest turns until a reply has room.

        With ``commit`` False it only previews (the inspector): the session is left as it was.
        Raises `ContextFullError` when the system message and the new message alone do not fit.
        """
        n_ctx = engine.info.n_ctx
        reserve = min(self.sampling.max_tokens, n_ctx // 4)
        start = self.first_kept
        while True:
            prompt = engine.build_prompt(self.messages(user_text, start), self.parse_special, self.variables)
            if len(prompt) + reserve <= n_ctx:
                break
            if start >= len(self.turns):
                raise ContextFullError(
                    f"the system message and your message take {len(prompt)} tokens; with "
                    f"{reserve} kept for the reply that exceeds the context of {n_ctx} tokens"
                )
            start += 1
        dropped = tuple(range(self.first_kept, start))
        if commit:
            self.first_kept = start
        return PreparedTurn(prompt, dropped)


def _split(piece: Piece, splitter: ThinkingSplitter) -> list[Piece]:
    """One engine piece as thinking, answer and markup; the token and its confidence go with the first."""
    if splitter.style == "none":
        return [piece]  # a template without thinking: every piece is answer, as the engine made it
    segments = splitter.feed(piece.text)
    if not segments:  # held back (maybe the start of a marker): the token still counts
        return [replace(piece, text="", kind="thinking" if splitter.inside else "answer")]
    first, *rest = segments
    return [replace(piece, text=first[1], kind=first[0])] + [
        Piece(-1, text, None, kind) for kind, text in rest
    ]


class Chat:
    """A model and its current session: what the CLI and the TUI drive."""

    def __init__(
        self,
        engine: ChatEngine,
        system: str | None,
        sampling: Sampling,
        parse_special: bool = False,
        variables: Mapping[str, object] | None = None,
    ) -> None:
        self.engine = engine
        self.session = Session(system, sampling, parse_special=parse_special, variables=dict(variables or {}))

    def prepare(self, user_text: str) -> PreparedTurn:
        return self.session.prepare(self.engine, user_text)

    def reply(
        self,
        prepared: PreparedTurn,
        user_text: str,
        cancel: threading.Event | None = None,
        sampling: Sampling | None = None,
        confidence: bool = False,
        prefix: str = "",
    ) -> Iterator[Piece | ReplyStats]:
        """Stream the reply to a prepared turn and record it (a stopped reply is kept as it is).

        The turn is recorded in the session it was sent in, even if a new session has started
        meanwhile: nothing crosses from one session to the next. ``prefix`` is the start of the
        reply the prompt already holds (an edited reply being continued).
        """
        session = self.session
        prompt = prepared.prompt
        turn = Turn(user_text, prompt)
        parts: list[str] = [prefix] if prefix else []
        split: dict[str, list[str]] = {"answer": [prefix] if prefix else [], "thinking": [], "markup": []}
        splitter = ThinkingSplitter(prompt.thinking_format, opened_by_prompt(prompt.generation_prompt))
        abandoned = False
        try:
            chosen = sampling or session.sampling
            for event in self.engine.generate(prompt, chosen, cancel, confidence):
                if not isinstance(event, Piece):
                    for kind, text in splitter.finish():
                        split[kind].append(text)
                        yield Piece(-1, text, None, kind)
                    turn.stats = event
                    yield event
                    continue
                parts.append(event.text)
                for piece in _split(event, splitter):
                    split[piece.kind].append(piece.text)
                    if confidence:
                        turn.pieces.append(piece)
                    yield piece
        except GeneratorExit:
            abandoned = True  # the reader went away (quit, new session): the turn is still kept
            raise
        finally:
            if parts or turn.stats is not None or abandoned:
                held = "".join(text for _kind, text in splitter.finish())
                turn.written = "".join(parts)
                turn.thinking = "".join(split["thinking"]) + (held if splitter.inside else "")
                turn.reply = "".join(split["answer"]) + ("" if splitter.inside else held)
                session.turns.append(turn)

    def send(self, user_text: str, cancel: threading.Event | None = None) -> Iterator[Piece | ReplyStats]:
        return self.reply(self.prepare(user_text), user_text, cancel)

    def continue_reply(
        self,
        edited: str,
        cancel: threading.Event | None = None,
        sampling: Sampling | None = None,
        confidence: bool = False,
    ) -> Iterator[Piece | ReplyStats]:
        """Replace the last reply with ``edited`` (the user's edit) and let the model go on from its
        last character: the prompt leaves that reply open, as transformers' ``continue_final_message``.
        The recorded reply is the edit followed by what the model added."""
        last = self.retract_last()
        if last is None:
            raise ValueError("there is no reply to continue")
        session = self.session
        messages = [*session.messages(last.user), Message("assistant", edited)]
        prompt = self.engine.build_prompt(
            messages, session.parse_special, session.variables, continue_final=True
        )
        return self.reply(PreparedTurn(prompt, ()), last.user, cancel, sampling, confidence, prefix=edited)

    def retract_last(self) -> Turn | None:
        """Take back the last turn (to regenerate its reply, or to edit and resend the message)."""
        session = self.session
        if not session.turns:
            return None
        turn = session.turns.pop()
        session.first_kept = min(session.first_kept, len(session.turns))
        return turn

    def new_session(
        self,
        system: str | None | _Keep = KEEP,
        sampling: Sampling | None = None,
        parse_special: bool | None = None,
        variables: Mapping[str, object] | None = None,
    ) -> Session:
        """Start from nothing: empty transcript, KV cache cleared, no cached prefix.

        ``system`` replaces the system message (None: no system message at all) and ``sampling``
        the settings; by default both are kept.
        """
        self.engine.reset()
        old = self.session
        new_system = old.system if isinstance(system, _Keep) else system
        keep_special = old.parse_special if parse_special is None else parse_special
        self.session = Session(
            new_system,
            sampling or old.sampling,
            number=old.number + 1,
            parse_special=keep_special,
            variables=dict(old.variables if variables is None else variables),
        )
        return self.session
