"""Sessions: the transcript the model is re-sent every turn, and nothing more.

The model keeps nothing between turns: each turn renders the whole transcript again, and only the
KV cache (a speed-up, not memory) lets the engine skip the tokens it has already seen. A new session
clears that cache as well, so nothing of the old session can reach the model.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from tui.core.chat.sampling import Sampling
from tui.core.chat.settings import SessionSettings
from tui.core.chat.thinking import ThinkingSplitter, opened_by_prompt
from tui.core.chat.tree import Origin, Tree, Turn, Unanswered
from tui.core.engine.base import EngineBase
from tui.core.engine.values import ContextFullError, Piece, ReplyStats
from tui.core.prompt.build import ConversationTooLong, Prompt
from tui.core.prompt.messages import Message


class _Keep:
    """Marks "keep the current system message" (None already means "no system message")."""


KEEP = _Keep()


ChatEngine = EngineBase
"""What a session needs from a model: the engine base (`tui.core.engine.base`), which the in-process
engine, the llama-server engine and the tests' fake all extend, so no caller asks for more."""


@dataclass(frozen=True)
class PreparedTurn:
    """Everything a reply needs before it starts: the exact prompt and where the turn goes."""

    prompt: Prompt
    dropped: tuple[int, ...]
    """Indices (on the path) of earlier turns this prompt newly leaves out to fit the context."""
    user: str = ""
    parent: Turn | None = None
    asked: int | None = None
    """The user message it answers (a sibling reply); None: a new message."""
    first_kept: int = 0
    origin: Origin = "sent"
    prefix: str = ""
    """The start of the reply the user wrote, already in the prompt (an edited reply)."""
    kept: tuple[Piece, ...] = ()
    """Pieces of an earlier reply fed back as ids, the chosen runner-up last (from a token)."""


@dataclass
class Session:
    system: str | None
    sampling: Sampling
    number: int = 1
    tree: Tree = field(default_factory=Tree)
    """Every turn of every branch; only the current path (``turns``) is sent to the model."""
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    parse_special: bool = False
    """The persona's opt-in: special tokens typed in this session's messages become control tokens."""
    variables: dict[str, object] = field(default_factory=dict)
    """The chat template's own variables for this session (``enable_thinking``, ...)."""
    reopened_from: str | None = None
    """The saved transcript this session's first turns were read from (sent again as text)."""
    unanswered: list[Unanswered] = field(default_factory=list)
    """Messages sent in this session that got no reply, with why (saved; never sent again)."""

    @property
    def turns(self) -> list[Turn]:
        """The current path: the turns the next prompt is made of."""
        return self.tree.path()

    @property
    def first_kept(self) -> int:
        leaf = self.tree.leaf
        return leaf.first_kept if leaf is not None else 0

    def messages(
        self, user_text: str, first_turn: int | None = None, after: Turn | None | _Keep = KEEP
    ) -> list[Message]:
        """System message (if any), the kept turns of the path to ``after``, then the new message."""
        path = self.turns if isinstance(after, _Keep) else self.tree.path_to(after)
        start = (path[-1].first_kept if path else 0) if first_turn is None else first_turn
        messages = [Message("system", self.system)] if self.system else []
        for turn in path[start:]:
            messages += [Message("user", turn.user), turn.as_message()]
        messages.append(Message("user", user_text))
        return messages

    def prepare(
        self, engine: ChatEngine, user_text: str, after: Turn | None | _Keep = KEEP, asked: int | None = None
    ) -> PreparedTurn:
        """The prompt for ``user_text`` after the turn ``after`` (by default, the current path's
        last), dropping the oldest turns of that path until a reply has room. Changes nothing.

        Raises `ContextFullError` when the system message and the new message alone do not fit.
        """
        parent = self.tree.leaf if isinstance(after, _Keep) else after
        path = self.tree.path_to(parent)
        n_ctx = engine.info.n_ctx
        reserve = min(self.sampling.max_tokens, n_ctx // 4)
        _check_fits(engine, user_text, n_ctx - reserve, reserve)
        first = path[-1].first_kept if path else 0
        start = first
        while True:
            try:
                prompt = engine.build_prompt(
                    self.messages(user_text, start, parent), self.parse_special, self.variables
                )
            except ConversationTooLong:
                prompt = None  # far too long to render: drop turns as for too many tokens
            if prompt is not None and len(prompt) + reserve <= n_ctx:
                break
            if start >= len(path):
                size = f"{len(prompt)} tokens" if prompt is not None else "more than it can hold"
                raise ContextFullError(
                    f"the system message and your message take {size}; with "
                    f"{reserve} kept for the reply that exceeds the context of {n_ctx} tokens"
                )
            start += 1
        return PreparedTurn(prompt, tuple(range(first, start)), user_text, parent, asked, start)


CHARS_PER_TOKEN = 64
"""More characters per token than any tokenizer packs on average: a message this many times the
context is refused without tokenizing it."""


def _check_fits(engine: ChatEngine, text: str, room: int, reserve: int) -> None:
    """A message too long for the context on its own is said to be, before a template renders it
    (a 200 KB paste otherwise read as the template's output limit)."""
    size = len(text)
    if size > CHARS_PER_TOKEN * room:
        count = f"{size:,} characters"
    else:
        # a token holds at least one byte, a character at most four: shorter texts always fit
        tokens = len(engine.vocab.tokenize(text, special=False)) if size * 4 > room else 0
        if tokens <= room:
            return
        count = f"{tokens:,} tokens"
    raise ContextFullError(
        f"your message is {count}: with {reserve} kept for the reply, the context of "
        f"{room + reserve:,} tokens cannot hold it (shorten it, or load the model with a larger --ctx)"
    )


def started(prepared: PreparedTurn) -> tuple[str, str]:
    """(thinking, answer) of the reply the prompt already holds: shown before the rest streams."""
    prompt = prepared.prompt
    splitter = ThinkingSplitter(prompt.thinking_format, opened_by_prompt(prompt.generation_prompt))
    split: dict[str, list[str]] = {"answer": [prepared.prefix], "thinking": [], "markup": []}
    for piece in prepared.kept:
        for part in _split(piece, splitter):
            split[part.kind].append(part.text)
    return "".join(split["thinking"]), "".join(split["answer"])


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

    @classmethod
    def start(cls, engine: ChatEngine, settings: SessionSettings) -> Chat:
        """A chat whose first session has ``settings`` (a template file is the caller's to apply)."""
        return cls(engine, settings.system, settings.sampling, settings.parse_special, settings.variables)

    def restart(self, settings: SessionSettings) -> Session:
        """A new session with ``settings``: nothing remembered (see `new_session`)."""
        return self.new_session(
            settings.system, settings.sampling, settings.parse_special, settings.variables
        )

    def prepare(self, user_text: str) -> PreparedTurn:
        """A new message after the current path."""
        return self.session.prepare(self.engine, user_text)

    # Branches: each keeps the turn it starts from as a sibling ----------------------------------

    def prepare_regenerate(self, turn: Turn | None = None) -> PreparedTurn:
        """Another reply to ``turn``'s message (by default the last): the same prompt, sampled again."""
        turn = self._turn(turn)
        prepared = self.session.prepare(self.engine, turn.user, turn.parent, turn.asked)
        return replace(prepared, origin="regenerated")

    def prepare_edit(self, turn: Turn, user_text: str) -> PreparedTurn:
        """``turn``'s message edited: a new branch from the turn before it."""
        prepared = self.session.prepare(self.engine, user_text, turn.parent)
        return replace(prepared, origin="edited message")

    def prepare_continue(self, turn: Turn, edited: str) -> PreparedTurn:
        """``turn``'s reply edited, left open for the model to go on from its last character (the
        prompt as transformers' ``continue_final_message``): a sibling of ``turn``."""
        session = self.session
        path = session.tree.path_to(turn.parent)
        start = path[-1].first_kept if path else 0
        messages = [*session.messages(turn.user, start, turn.parent), Message("assistant", edited)]
        prompt = self.engine.build_prompt(
            messages, session.parse_special, session.variables, continue_final=True
        )
        return PreparedTurn(prompt, (), turn.user, turn.parent, turn.asked, start, "edited reply", edited)

    def prepare_from_token(self, turn: Turn, index: int, token: int) -> PreparedTurn:
        """``turn``'s reply cut at its ``index``-th piece, where the runner-up ``token`` is taken
        instead: the model is fed the same prompt ids, the ids it generated up to there and
        ``token``, then goes on (a sibling of ``turn``; a new seed is the caller's to give)."""
        piece = turn.pieces[index]
        sure = piece.confidence
        choice = next((a for a in sure.alternatives if a.token == token), None) if sure else None
        if sure is None or choice is None:
            raise ValueError(f"token {token} is not a runner-up at piece {index}")
        ids = [p.token for p in turn.pieces[:index] if p.token >= 0] + [token]
        prompt = self.engine.extend_prompt(turn.prompt, ids)
        chosen = Piece(token, choice.text, replace(sure, probability=choice.probability))
        kept = (*turn.pieces[:index], chosen)
        return PreparedTurn(
            prompt, (), turn.user, turn.parent, turn.asked, turn.first_kept, "token", turn.prefix, kept
        )

    def _turn(self, turn: Turn | None) -> Turn:
        found = turn or self.session.tree.leaf
        if found is None:
            raise ValueError("there is no turn yet")
        return found

    # Replies --------------------------------------------------------------------------------------

    def reply(
        self,
        prepared: PreparedTurn,
        cancel: threading.Event | None = None,
        sampling: Sampling | None = None,
        confidence: bool = False,
    ) -> Iterator[Piece | ReplyStats]:
        """Stream the reply to a prepared turn and record it (a stopped reply is kept as it is).

        The turn is recorded in the session it was sent in, even if a new session has started
        meanwhile: nothing crosses from one session to the next. What the prompt already holds of
        the reply (an edit, or pieces fed back) starts the recorded reply but is not streamed.
        """
        session = self.session
        prompt = prepared.prompt
        turn = Turn(
            prepared.user,
            prompt,
            parent=prepared.parent,
            asked=session.tree.new_asked() if prepared.asked is None else prepared.asked,
            first_kept=prepared.first_kept,
            origin=prepared.origin,
            prefix=prepared.prefix,
        )
        parts: list[str] = []
        split: dict[str, list[str]] = {"answer": [], "thinking": [], "markup": []}
        splitter = ThinkingSplitter(prompt.thinking_format, opened_by_prompt(prompt.generation_prompt))
        if prepared.prefix:
            parts.append(prepared.prefix)
            split["answer"].append(prepared.prefix)
        for number, old in enumerate(prepared.kept, start=1):
            if number == len(prepared.kept):
                turn.branched_at = len(turn.pieces)  # the runner-up chosen: the reply marks it
            parts.append(old.text)
            for piece in _split(old, splitter):
                split[piece.kind].append(piece.text)
                turn.pieces.append(piece)
        confidence = confidence or bool(prepared.kept)  # the whole reply stays shaded
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
                session.tree.add(turn)

    def send(self, user_text: str, cancel: threading.Event | None = None) -> Iterator[Piece | ReplyStats]:
        return self.reply(self.prepare(user_text), cancel)

    def continue_reply(
        self,
        edited: str,
        cancel: threading.Event | None = None,
        sampling: Sampling | None = None,
        confidence: bool = False,
    ) -> Iterator[Piece | ReplyStats]:
        """The last reply edited and continued by the model (see `prepare_continue`)."""
        leaf = self.session.tree.leaf
        if leaf is None:
            raise ValueError("there is no reply to continue")
        return self.reply(self.prepare_continue(leaf, edited), cancel, sampling, confidence)

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
