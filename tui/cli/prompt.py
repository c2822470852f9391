"""`llm-tui prompt`: the exact hidden prompt a message would be sent as, its parts, or what is new
since a saved session's last turn."""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, TextIO

from tui.cli.setup import load_engine, persona_of, session_of
from tui.core.chat import transcripts
from tui.core.problems import ProblemError
from tui.core.prompt.build import Prompt
from tui.core.prompt.parts import appended_from, parts, thinking_fates
from tui.core.text_safety import deliberate, terminal_safe, visible_controls
from tui.paths import get_paths

if TYPE_CHECKING:
    from tui.core.chat.session import Session

DIM, BRIGHT, RESET = "\x1b[2m", "\x1b[1m", "\x1b[0m"


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The exact prompt a message would be sent as: text, tokens, JSON, parts or the diff."""
    from tui.core.chat.session import Session
    from tui.core.engine.values import ContextFullError
    from tui.core.prompt.template import TemplateRenderError

    persona = persona_of(args)
    settings = session_of(args, persona)
    engine = load_engine(args, persona, settings)
    previous: str | None = None
    try:
        if args.diff:  # the saved session's own settings, prepared as the chat would go on
            session = diff_session(args.diff)
            prompt = session.prepare(engine, args.message).prompt
            previous = session.turns[-1].prompt.text
            if not (args.parts or args.json or args.tokens):
                print_diff(previous, prompt, out, err)
                return 0
        else:
            messages = Session(settings.system, settings.sampling).messages(args.message)
            prompt = engine.build_prompt(messages, settings.parse_special, settings.variables)
    except TemplateRenderError as exc:
        raise ProblemError(str(exc)) from exc
    except ContextFullError as exc:
        raise ProblemError(f"{exc} (`--ctx` sets a larger context)") from exc
    new_from = None if previous is None else first_new_token(prompt, appended_from(previous, prompt.text))
    if args.parts:
        print_parts(prompt, engine.info.n_ctx, out)
        if new_from is not None:
            print(f"new since the session's last prompt: tokens {new_from} to {len(prompt)}", file=out)
        return 0
    if args.json:
        data = prompt.to_json()
        if previous is not None:
            kept = appended_from(previous, prompt.text)
            data["diff"] = {"session": args.diff, "unchanged_characters": kept, "new_from_token": new_from}
        json.dump(data, out, ensure_ascii=False, indent=2)
        print(file=out)
        return 0
    color = out.isatty() and "NO_COLOR" not in os.environ
    if args.tokens:
        for index, token in enumerate(prompt.tokens):
            mark = "*" if token.special else " "
            new = "+" if new_from is not None and index >= new_from else " "
            print(f"{index:>5} {token.id:>7} {mark}{new} {token.text!r}", file=out)  # repr: controls escaped
    else:
        if color:
            deliberate(out, _ansi_specials(prompt.runs()))
        else:
            out.write(terminal_safe(prompt.text, out))
        if not prompt.text.endswith("\n"):
            out.write("\n")
    notes = [f"{len(prompt)} tokens, {engine.info.template_name}", *prompt.notes]
    for note in notes:
        print(f"# {note}", file=err)
    return 0


def first_new_token(prompt: Prompt, kept: int) -> int:
    """The first token holding text past the first ``kept`` characters (what the diff calls new)."""
    limit, offset = len(prompt.text[:kept].encode("utf-8")), 0
    for index, token in enumerate(prompt.tokens):
        if offset + len(token.piece) > limit:
            return index
        offset += len(token.piece)
    return len(prompt.tokens)


def print_parts(prompt: Prompt, n_ctx: int, out: TextIO) -> None:
    """Per-part token counts, against the context size."""
    rows = parts(prompt)
    width = max(len(p.label) for p in rows)
    for part in rows:
        print(f"{part.label:<{width}}  {part.tokens:>6} tokens  {part.chars:>7} chars", file=out)
    total = sum(p.tokens for p in rows)
    print(
        f"{'total':<{width}}  {total:>6} tokens of a {n_ctx}-token context ({100 * total / n_ctx:.1f}%)",
        file=out,
    )
    for fate in thinking_fates(prompt):
        what = (
            f"re-sent by the template ({fate.tokens} tokens)"
            if fate.resent
            else f"dropped by the template ({fate.chars} characters not sent)"
        )
        print(f"reply {fate.reply}'s thinking: {what}", file=out)


def diff_session(session_id: str) -> Session:
    """A saved session as it was: the branch it was on, the turns its last prompt held, its
    template variables (the next prompt is prepared from it exactly as the chat would)."""
    path = transcripts.find(get_paths(), session_id)
    if path is None:
        raise ProblemError(f"no saved session `{session_id}`; see `llm-tui sessions list`")
    session = transcripts.restore(transcripts.load_checked(path))
    if not session.turns:  # the branch the session was on: the others were never sent
        raise ProblemError(f"session `{session_id}` has no turn to compare with")
    return session


def print_diff(previous: str, prompt: Prompt, out: TextIO, err: TextIO) -> None:
    """The whole prompt; what was already sent last turn dimmed, what is appended bright."""
    kept = appended_from(previous, prompt.text)
    if out.isatty() and "NO_COLOR" not in os.environ:
        sent, added = visible_controls(prompt.text[:kept]), visible_controls(prompt.text[kept:])
        deliberate(out, f"{DIM}{sent}{RESET}{BRIGHT}{added}{RESET}\n")
    else:
        out.write(prompt.text if prompt.text.endswith("\n") else prompt.text + "\n")
    if kept == len(previous):
        print(
            f"# the previous turn's prompt ({kept} characters) is re-sent whole; "
            f"{len(prompt.text) - kept} characters are appended: the model holds nothing between turns",
            file=err,
        )
    else:
        print(f"# only the first {kept} of the previous {len(previous)} characters are unchanged", file=err)


def _ansi_specials(runs: list[tuple[str, bool]]) -> str:
    """Special tokens in reverse video, so the template's own markers stand out in a terminal."""
    shown = [(visible_controls(text), special) for text, special in runs]
    return "".join(f"\x1b[7m{text}\x1b[27m" if special else text for text, special in shown)
