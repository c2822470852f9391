"""Saved sessions: a record for the user of what was said and sent, never shown to the model.

Each session is one JSON file under the data location, rewritten (atomically) after every turn so
nothing is lost on a crash: persona, model, settings, and for each turn the messages, the seed, how
the reply ended and the exact prompt it was sent as.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tui.core.atomic import write_text_atomic
from tui.core.chat.session import Session
from tui.core.engine.values import EngineInfo
from tui.core.problems import Problem
from tui.core.safe_read import UnreadableFile, read_text_bounded
from tui.paths import Paths

FORMAT = 1


def session_file(paths: Paths, session: Session) -> Path:
    stamp = session.started_at.astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return paths.sessions / f"{stamp}-{session.id}.json"


def transcript(session: Session, info: EngineInfo, persona: str | None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "id": session.id,
        "number": session.number,
        "started": session.started_at.isoformat(timespec="seconds"),
        "saved": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": {"name": info.name, "file": str(info.path), "context": info.n_ctx, "device": info.device},
        "persona": persona,
        "system": session.system,
        "sampling": asdict(session.sampling),
        "turns": [
            {
                "user": turn.user,
                "reply": turn.reply,
                "seed": turn.stats.seed if turn.stats else None,
                "stop": turn.stats.stop if turn.stats else None,
                "prompt_tokens": len(turn.prompt),
                "completion_tokens": turn.stats.completion_tokens if turn.stats else None,
                "tokens_per_second": round(turn.stats.tokens_per_second, 2) if turn.stats else None,
                "prompt": turn.prompt.text,
            }
            for turn in session.turns
        ],
    }


def save(paths: Paths, session: Session, info: EngineInfo, persona: str | None) -> Path | None:
    """Write the session's transcript (nothing for a session without a turn)."""
    if not session.turns:
        return None
    path = session_file(paths, session)
    write_text_atomic(path, json.dumps(transcript(session, info, persona), ensure_ascii=False, indent=1))
    return path


@dataclass(frozen=True)
class Saved:
    id: str
    path: Path
    started: str
    model: str
    persona: str | None
    turns: int
    first_message: str


def list_saved(paths: Paths) -> tuple[list[Saved], list[Problem]]:
    """Saved sessions, newest first, and the files that could not be read."""
    found: list[Saved] = []
    problems: list[Problem] = []
    for path in sorted(paths.sessions.glob("*.json"), reverse=True) if paths.sessions.is_dir() else []:
        try:
            data = load(path)
            turns = data["turns"]
            found.append(
                Saved(
                    str(data["id"]),
                    path,
                    str(data["started"]),
                    str(data["model"]["name"]),
                    data.get("persona"),
                    len(turns),
                    turns[0]["user"] if turns else "",
                )
            )
        except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
            problems.append(
                Problem(str(path), f"not a readable session ({reason_of(exc)})", hint="it is left as it is")
            )
    return found, problems


SESSION_LIMIT = 64 * 1024 * 1024


def load(path: Path) -> dict[str, Any]:
    """One saved session; `ValueError` (or `OSError`) with a readable reason when it is damaged."""
    try:
        data = json.loads(read_text_bounded(path, SESSION_LIMIT))
    except RecursionError as exc:
        raise ValueError("nested too deeply to be a session") from exc
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def reason_of(exc: BaseException) -> str:
    if isinstance(exc, UnreadableFile):
        return exc.reason
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    return str(exc) or type(exc).__name__


def find(paths: Paths, session_id: str) -> Path | None:
    """A saved session by id, or by a unique start of its file name (a damaged file is found too)."""
    saved, _ = list_saved(paths)
    matches = {s.path for s in saved if s.id == session_id}
    if paths.sessions.is_dir():
        matches |= {p for p in paths.sessions.glob("*.json") if p.stem.startswith(session_id)}
        matches |= {p for p in paths.sessions.glob("*.json") if p.stem.endswith(f"-{session_id}")}
    return matches.pop() if len(matches) == 1 else None


def to_markdown(data: dict[str, Any]) -> str:
    """A readable record: settings, then each turn with its reply and the exact prompt it was sent as."""
    lines = [
        f"# Session #{data['number']} ({data['started']})",
        "",
        f"- model: {data['model']['name']} ({data['model']['device']}, context {data['model']['context']})",
        f"- persona: {data.get('persona') or 'none'}",
        f"- system message: {data['system']!r}" if data.get("system") else "- system message: none",
        f"- sampling: {', '.join(f'{k}={v}' for k, v in data['sampling'].items() if v is not None)}",
        "",
        "Kept for you: the model cannot see this. Every session starts from nothing.",
    ]
    for number, turn in enumerate(data["turns"], start=1):
        stats = f"seed {turn['seed']}, {turn['completion_tokens']} tokens, stop: {turn['stop']}"
        lines += [
            "",
            f"## Turn {number}",
            "",
            "**You:**",
            "",
            turn["user"],
            "",
            f"**Model** ({stats}):",
            "",
            turn["reply"],
            "",
            f"<details><summary>The exact prompt ({turn['prompt_tokens']} tokens)</summary>",
            "",
            "```text",
            turn["prompt"],
            "```",
            "",
            "</details>",
        ]
    return "\n".join(lines) + "\n"
