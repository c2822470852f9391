"""Saved sessions: a record for the user of what was said and sent, never shown to the model.

Each session is one JSON file under the data location, rewritten (atomically) after every turn so
nothing is lost on a crash: persona, model, settings, and for each turn the messages, the seed, how
the reply ended and the exact prompt it was sent as. Format 2 keeps every branch (each turn names
its parent) and the current path; a format 1 file (one straight line of turns) is read as it is and
written as format 2 only when its session is saved again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from tui.core.atomic import write_text_atomic
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import Session
from tui.core.chat.tree import Turn, Unanswered
from tui.core.engine.values import STOP_REASONS, EngineInfo, ReplyStats
from tui.core.problems import Problem, ProblemError
from tui.core.prompt.build import Prompt
from tui.core.safe_read import UnreadableFile, read_text_bounded
from tui.core.text_safety import valid_text
from tui.paths import Paths

FORMAT = 2
READ_FORMATS = (1, 2)
T = TypeVar("T")


@dataclass(frozen=True)
class SavedModel:
    name: str
    file: str
    context: int
    device: str


@dataclass(frozen=True)
class SavedTurn:
    """One exchange as saved: what was said, how the reply ended, and the exact prompt sent."""

    user: str
    reply: str
    seed: int | None
    stop: str | None
    prompt_tokens: int
    completion_tokens: int | None
    tokens_per_second: float | None
    prompt: str
    thinking: str = ""
    """A reasoning model's thinking, kept apart from the answer (``reply``)."""
    written: str = ""
    """The reply as generated, markup included, when it differs from ``reply`` (else empty)."""
    parent: int | None = None
    """The index (in ``Transcript.turns``) of the turn before this one on its path."""
    asked: int = 0
    """Turns with the same parent and ``asked`` answer one user message (see tui.core.chat.tree)."""
    origin: str = "sent"
    branched_at: int | None = None
    """For a reply continued from a runner-up token: which of its tokens was chosen."""
    first_kept: int = 0
    """The first turn of its path its prompt held (earlier ones were dropped to fit the context)."""
    error: str = ""
    """Why the reply broke off, when it did (a server gone mid-reply)."""


@dataclass(frozen=True)
class Transcript:
    """A saved session, checked: every reader gets these fields, never the file's raw JSON."""

    id: str
    number: int
    started: str
    saved: str | None
    model: SavedModel
    persona: str | None
    system: str | None
    sampling: dict[str, float | None]
    turns: tuple[SavedTurn, ...]
    """Every turn of every branch, in the order they were made."""
    path: tuple[int, ...] = ()
    """The current path: indices into ``turns``, first turn first."""
    reopened_from: str | None = None
    format: int = FORMAT
    parse_special: bool = False
    """The persona's opt-in: special tokens typed in messages were control tokens."""
    variables: dict[str, object] = field(default_factory=dict)
    """The chat template's own variables the session was rendered with."""
    unanswered: tuple[Unanswered, ...] = ()
    """Messages that got no reply, with why."""

    @property
    def path_turns(self) -> tuple[SavedTurn, ...]:
        return tuple(self.turns[i] for i in self.path)

    @property
    def branches(self) -> int:
        """How many branches: turns no other turn follows, each the end of one."""
        return len(self.turns) - len({t.parent for t in self.turns} - {None})

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["turns"] = list(data["turns"])
        data["path"] = list(data["path"])
        data["unanswered"] = list(data["unanswered"])
        return {"format": FORMAT, **{k: v for k, v in data.items() if k != "format"}}


def session_file(paths: Paths, session: Session) -> Path:
    stamp = session.started_at.astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return paths.sessions / f"{stamp}-{session.id}.json"


def record(session: Session, info: EngineInfo, persona: str | None) -> Transcript:
    """The session as saved: every turn of every branch, the path, and what rendered its prompts.

    `restore` is its inverse (the saved prompts come back as text, their tokens are not kept)."""
    everything = session.tree.turns
    index = {id(turn): number for number, turn in enumerate(everything)}
    return Transcript(
        id=session.id,
        number=session.number,
        started=session.started_at.isoformat(timespec="seconds"),
        saved=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        model=SavedModel(info.name, str(info.path), info.n_ctx, info.device),
        persona=persona,
        system=session.system,
        sampling=asdict(session.sampling),
        turns=tuple(
            SavedTurn(
                user=turn.user,
                reply=turn.reply,
                seed=turn.stats.seed if turn.stats else None,
                stop=turn.stats.stop if turn.stats else None,
                prompt_tokens=turn.stats.prompt_tokens if turn.stats else len(turn.prompt),
                completion_tokens=turn.stats.completion_tokens if turn.stats else None,
                tokens_per_second=round(turn.stats.tokens_per_second, 2) if turn.stats else None,
                prompt=turn.prompt.text,
                thinking=turn.thinking,
                written=turn.written if turn.written != turn.reply else "",
                parent=None if turn.parent is None else index[id(turn.parent)],
                asked=turn.asked,
                origin=turn.origin,
                branched_at=turn.branched_at,
                first_kept=turn.first_kept,
                error=turn.error,
            )
            for turn in everything
        ),
        path=tuple(index[id(turn)] for turn in session.turns),
        reopened_from=session.reopened_from,
        parse_special=session.parse_special,
        variables=dict(session.variables),
        unanswered=tuple(session.unanswered),
    )


def restore(saved: Transcript) -> Session:
    """The session a transcript records, as the live tree: every branch, the path it was on, the
    turns each prompt held, its template variables. Each prompt is the text that was sent (its
    tokens are not saved); `tui.core.chat.reopen` renders them again to go on with a model."""
    known = {f.name for f in fields(Sampling)}
    sampling = Sampling(**{k: v for k, v in saved.sampling.items() if k in known})  # type: ignore[arg-type]
    session = Session(
        saved.system,
        sampling,
        number=saved.number,
        started_at=_moment(saved.started),
        id=saved.id,
        parse_special=saved.parse_special,
        variables=dict(saved.variables),
        reopened_from=saved.reopened_from,
        unanswered=list(saved.unanswered),
    )
    made: list[Turn] = []
    for old in saved.turns:
        turn = Turn(
            old.user,
            sent_text(old.prompt),
            reply=old.reply,
            stats=_stats(old),
            thinking=old.thinking,
            written=old.written or old.reply,
            parent=None if old.parent is None else made[old.parent],
            asked=old.asked,
            first_kept=old.first_kept,
            origin=old.origin,  # type: ignore[arg-type]
            branched_at=old.branched_at,
            error=old.error,
        )
        session.tree.add(turn)
        made.append(turn)
    session.tree.select(made[saved.path[-1]] if saved.path else None)
    return session


def sent_text(text: str) -> Prompt:
    """A prompt known only by its text (as saved): no tokens, no parts."""
    return Prompt(text, (), (), (), "as saved")


def _stats(old: SavedTurn) -> ReplyStats | None:
    """How a saved reply ended; None for a turn that was never generated here (reopened)."""
    if old.stop is None and old.seed is None:
        return None
    count = old.completion_tokens or 0
    speed = old.tokens_per_second or 0.0
    seconds = (count - 1) / speed if speed > 0 and count > 1 else 0.0
    stop = old.stop if old.stop in STOP_REASONS else "cancelled"
    return ReplyStats(old.prompt_tokens, 0, count, 0.0, seconds, stop, old.seed or 0)  # type: ignore[arg-type]


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return datetime.now(timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def save(paths: Paths, session: Session, info: EngineInfo, persona: str | None) -> Path | None:
    """Write the session's transcript (nothing for a session where nothing was sent)."""
    if not session.tree.turns and not session.unanswered:
        return None
    path = session_file(paths, session)
    data = record(session, info, persona).to_json()
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=1))
    return path


@dataclass(frozen=True)
class Saved:
    id: str
    path: Path
    started: str
    model: str
    persona: str | None
    turns: int
    """On the current path."""
    first_message: str
    branches: int = 1


def list_saved(paths: Paths) -> tuple[list[Saved], list[Problem]]:
    """Saved sessions, newest first, and the files that could not be read."""
    found: list[Saved] = []
    problems: list[Problem] = []
    for path in sorted(paths.sessions.glob("*.json"), reverse=True) if paths.sessions.is_dir() else []:
        try:
            saved = load(path)
        except (OSError, ValueError) as exc:
            problems.append(
                Problem(str(path), f"not a readable session ({reason_of(exc)})", hint="it is left as it is")
            )
            continue
        on_path = saved.path_turns
        first = on_path[0].user if on_path else (saved.unanswered[0].user if saved.unanswered else "")
        model = saved.model.name
        found.append(
            Saved(saved.id, path, saved.started, model, saved.persona, len(on_path), first, saved.branches)
        )
    return found, problems


SESSION_LIMIT = 64 * 1024 * 1024


def load(path: Path) -> Transcript:
    """One saved session; `ValueError` (or `OSError`) naming what is wrong when it is damaged."""
    try:
        data = json.loads(read_text_bounded(path, SESSION_LIMIT))
    except RecursionError as exc:
        raise ValueError("nested too deeply to be a session") from exc
    return parse(data)


def load_checked(path: Path) -> Transcript:
    """`load` for a command: a damaged file is a `ProblemError` naming it and what is wrong."""
    try:
        return load(path)
    except (OSError, ValueError) as exc:
        reason = f"not a readable session ({reason_of(exc)})"
        raise ProblemError(Problem(str(path), reason, hint="the file is damaged")) from exc


def parse(data: object) -> Transcript:
    """Check a transcript's JSON field by field; `ValueError` names the first key that is wrong."""
    top = _Fields(data, "")
    version = top.value("format", int)
    if version not in READ_FORMATS:
        readable = ", ".join(map(str, READ_FORMATS))
        raise ValueError(f"format {version} is not one this version reads ({readable})")
    model = _Fields(top.value("model", dict), "model")
    sampling = top.value("sampling", dict)
    for key, value in sampling.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"sampling.{key}: expected a number, not {type(value).__name__}")
    turns = []
    for number, item in enumerate(top.value("turns", list)):
        turn = _Fields(item, f"turns[{number}]")
        turns.append(
            SavedTurn(
                user=turn.value("user", str),
                reply=turn.value("reply", str),
                seed=turn.optional("seed", int),
                stop=turn.optional("stop", str),
                prompt_tokens=turn.value("prompt_tokens", int),
                completion_tokens=turn.optional("completion_tokens", int),
                tokens_per_second=turn.optional("tokens_per_second", (int, float)),
                prompt=turn.value("prompt", str),
                thinking=turn.optional("thinking", str) or "",
                written=turn.optional("written", str) or "",
                # format 1: one straight line, every turn after the one before it
                parent=turn.optional("parent", int) if version > 1 else (number - 1 if number else None),
                asked=turn.value("asked", int) if version > 1 else number,
                origin=turn.optional("origin", str) or "sent",
                branched_at=turn.optional("branched_at", int),
                first_kept=turn.optional("first_kept", int) or 0,
                error=turn.optional("error", str) or "",
            )
        )
    depth: list[int] = []
    for number, saved in enumerate(turns):
        if saved.parent is not None and not 0 <= saved.parent < number:
            raise ValueError(f"turns[{number}].parent: expected an earlier turn's index, not {saved.parent}")
        depth.append(0 if saved.parent is None else depth[saved.parent] + 1)
        if not 0 <= saved.first_kept <= depth[-1]:
            raise ValueError(
                f"turns[{number}].first_kept: expected 0 to {depth[-1]} (the turns before it), "
                f"not {saved.first_kept}"
            )
    path = tuple(top.value("path", list)) if version > 1 else tuple(range(len(turns)))
    _check_path(path, turns)
    return Transcript(
        id=top.value("id", str),
        number=top.value("number", int),
        started=top.value("started", str),
        saved=top.optional("saved", str),
        model=SavedModel(
            model.value("name", str),
            model.value("file", str),
            model.value("context", int),
            model.value("device", str),
        ),
        persona=top.optional("persona", str),
        system=top.optional("system", str),
        sampling=sampling,
        turns=tuple(turns),
        path=path,
        reopened_from=top.optional("reopened_from", str),
        format=version,
        parse_special=bool(top.optional("parse_special", bool)),
        variables=top.optional("variables", dict) or {},
        unanswered=_unanswered(top.optional("unanswered", list) or [], len(turns)),
    )


def _unanswered(items: list[object], turns: int) -> tuple[Unanswered, ...]:
    found = []
    for number, item in enumerate(items):
        entry = _Fields(item, f"unanswered[{number}]")
        after = entry.value("after", int)
        if not 0 <= after <= turns:
            raise ValueError(f"unanswered[{number}].after: expected 0 to {turns}, not {after}")
        found.append(Unanswered(entry.value("user", str), after, entry.value("why", str)))
    return tuple(found)


def _check_path(path: tuple[object, ...], turns: list[SavedTurn]) -> None:
    """The path must run from a first turn down, each turn the child of the one before."""
    if turns and not path:
        raise ValueError("path: empty, but there are turns")
    before: int | None = None
    for number, index in enumerate(path):
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(turns):
            raise ValueError(f"path[{number}]: expected the index of a turn, not {index!r}")
        if turns[index].parent != before:
            raise ValueError(f"path[{number}]: turn {index} does not follow turn {before}")
        before = index
    if before is not None and any(t.parent == before for t in turns):
        raise ValueError("path: does not end at the last turn of its branch")


class _Fields:
    """Typed access to one JSON object, naming the key (``turns[2].user``) in every error."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{where or 'the file'}: expected a JSON object")
        self.data: dict[str, Any] = data
        self.where = where

    def value(self, key: str, kind: type[T] | tuple[type, ...]) -> T:
        if key not in self.data:
            raise ValueError(f"missing {self._name(key)}")
        return self._checked(key, kind)

    def optional(self, key: str, kind: type[T] | tuple[type, ...]) -> T | None:
        return None if self.data.get(key) is None else self._checked(key, kind)

    def _checked(self, key: str, kind: type[T] | tuple[type, ...]) -> T:
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            expected = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
            found = _KIND_NAMES.get(type(value), type(value).__name__)
            raise ValueError(f"{self._name(key)}: expected {expected}, not {found}")
        if isinstance(value, str):
            value = valid_text(value)  # a lone surrogate (a JSON escape) could not be shown or written
        return value  # type: ignore[no-any-return]

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key


_KIND_NAMES: dict[type, str] = {
    str: "text",
    int: "a whole number",
    float: "a number",
    dict: "an object",
    list: "a list",
}


def reason_of(exc: BaseException) -> str:
    if isinstance(exc, UnreadableFile):
        return exc.reason
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    return str(exc) or type(exc).__name__


def find(paths: Paths, session_id: str) -> Path | None:
    """A saved session by id, or by a unique start of its file name (a damaged file is found too).

    None when nothing matches; `ProblemError` listing them when several do (not "no session")."""
    saved, _ = list_saved(paths)
    matches = {s.path for s in saved if s.id == session_id}
    if paths.sessions.is_dir() and session_id:
        matches |= {p for p in paths.sessions.glob("*.json") if p.stem.startswith(session_id)}
        matches |= {p for p in paths.sessions.glob("*.json") if p.stem.endswith(f"-{session_id}")}
    if len(matches) > 1:
        names = ", ".join(sorted(p.stem for p in matches)[:5]) + (", …" if len(matches) > 5 else "")
        raise ProblemError(f"`{session_id}` matches {len(matches)} saved sessions ({names}): give more of it")
    return matches.pop() if matches else None
