"""Seeing the machinery from the shell: prompt parts, the diff from the last turn, the identity probe."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, TextIO

from tui.core.chat import transcripts
from tui.core.chat.experiments import IDENTITY_QUESTION
from tui.core.problems import ProblemError
from tui.core.prompt.build import Prompt
from tui.core.prompt.parts import appended_from, parts, thinking_fates
from tui.paths import get_paths

if TYPE_CHECKING:
    from tui.core.chat.session import ChatEngine, Session

DIM, BRIGHT, RESET = "\x1b[2m", "\x1b[1m", "\x1b[0m"


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
        out.write(f"{DIM}{prompt.text[:kept]}{RESET}{BRIGHT}{prompt.text[kept:]}{RESET}\n")
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


def run_probe(args: argparse.Namespace, engine: ChatEngine, out: TextIO) -> int:
    """Each answer in a fresh session with the same seed: only the hidden prompt differs."""
    from dataclasses import replace

    from tui.core.chat.experiments import identity_probe, probe_subjects
    from tui.core.chat.sampling import Sampling
    from tui.core.chat.settings import Overrides
    from tui.core.personas.store import PersonaStore

    found = PersonaStore(get_paths()).load()
    thinking = None if getattr(args, "thinking", None) is None else args.thinking == "on"
    overrides = Overrides(thinking=thinking, template_file=getattr(args, "chat_template_file", None))
    subjects = probe_subjects(found, args.probe_personas or (), overrides=overrides)
    sampling = replace(Sampling(), seed=args.seed, max_tokens=args.max_tokens)
    if getattr(args, "temperature", None) is not None:
        sampling = replace(sampling, temperature=args.temperature)
    for answer in identity_probe(engine, args.question or IDENTITY_QUESTION, subjects, sampling):
        system = answer.system or "none: the template decides"
        print(f"== {answer.label}\nsystem: {system}\nanswer: {answer.text}\n", file=out)
        if args.prompts:
            print(answer.prompt.text, file=out)
    print(f"# seed {args.seed} for every answer, each in a fresh session", file=sys.stderr)
    return 0
