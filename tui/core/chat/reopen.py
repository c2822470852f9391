"""Go on with a saved session: its turns are sent again as text, the model remembers none of it."""

from __future__ import annotations

from tui.core.chat.session import Chat, Session
from tui.core.chat.transcripts import Transcript
from tui.core.chat.tree import Turn
from tui.core.problems import Problem, ProblemError

LIMIT = 1000
"""Turns a reopened session may hold: each one's prompt is rendered and tokenized again (a file
from elsewhere with a hundred thousand turns would keep the model's thread busy for minutes)."""


def reopen(chat: Chat, saved: Transcript, source: str) -> Session:
    """A new session holding ``saved``'s turns (every branch, on the path it was on).

    Like any new session it starts with the engine's cache cleared: whatever the model "remembers"
    of the old conversation is what the next prompt re-sends, rendered by this model's template.
    Each turn's prompt is the one it would be sent as now (the saved file keeps the old ones).
    """
    if len(saved.turns) > LIMIT:
        raise ProblemError(
            Problem(
                source,
                f"has {len(saved.turns)} turns; at most {LIMIT} can be reopened",
                hint="read it with `llm-tui sessions show` or export it",
            )
        )
    session = chat.new_session(saved.system, None, saved.parse_special, saved.variables)
    session.reopened_from = source
    made: list[Turn] = []
    for old in saved.turns:
        parent = None if old.parent is None else made[old.parent]
        prepared = session.prepare(chat.engine, old.user, parent)
        turn = Turn(
            old.user,
            prepared.prompt,
            reply=old.reply,
            thinking=old.thinking,
            written=old.written or old.reply,
            parent=parent,
            asked=old.asked,
            first_kept=prepared.first_kept,
            origin="reopened",
        )
        session.tree.add(turn)
        made.append(turn)
    if saved.path:
        session.tree.select(made[saved.path[-1]])
    session.unanswered = list(saved.unanswered)  # shown again and kept, never sent by themselves
    return session
