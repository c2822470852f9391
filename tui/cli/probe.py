"""`llm-tui probe`: who the model says it is, with no system message and under personas."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from tui.cli.setup import load_engine
from tui.core.chat.experiments import IDENTITY_QUESTION
from tui.core.engine.values import EngineError, LoadOptions
from tui.core.teach.compare import ThreeWay, three_way
from tui.paths import get_paths

if TYPE_CHECKING:
    from tui.core.chat.sampling import Sampling
    from tui.core.chat.session import ChatEngine


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Each answer in a fresh session with the same seed: only the hidden prompt differs."""
    engine = load_engine(args)
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
    question = args.question or IDENTITY_QUESTION
    taught = (
        three_way(engine.info.path, found) if not engine.info.server and not args.probe_personas else None
    )
    if taught is not None:
        return _three_way(engine, taught, question, sampling, args, out, err)
    for answer in identity_probe(engine, question, subjects, sampling):
        system = answer.system or "none: the template decides"
        print(f"== {answer.label}\nsystem: {system}\nanswer: {answer.text}\n", file=out)
        if args.prompts:
            print(answer.prompt.text, file=out)
    print(f"# seed {args.seed} for every answer, each in a fresh session", file=err)
    return 0


def _three_way(
    engine: ChatEngine,
    plan: ThreeWay,
    question: str,
    sampling: Sampling,
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
) -> int:
    """A taught model: the bare base, the base with the persona's hidden message, the taught one."""
    from tui.core.engine.local import open_local
    from tui.core.models.catalog import ModelNotFoundError
    from tui.core.teach.compare import answers, taught_note

    made = plan.provenance
    try:
        base: ChatEngine | None = open_local(
            made.base_model, LoadOptions(n_ctx=engine.info.n_ctx), quiet=True
        )
    except (ModelNotFoundError, EngineError) as exc:
        print(
            f"llm-tui: warning: the base model is not here ({exc}): only the taught model answers", file=err
        )
        base = None
    if plan.persona is None:
        print(f"llm-tui: warning: the persona `{made.persona}` is gone: no hidden-message column", file=err)
    try:
        for answer in answers(engine, base, plan, question, sampling):
            system = answer.system or "none: the template decides"
            print(f"== {answer.label}\nsystem: {system}\nanswer: {answer.text}\n", file=out)
            if args.prompts:
                print(answer.prompt.text, file=out)
    finally:
        if base is not None:
            base.close()
    print(f"# {taught_note(engine.info.name, made)}", file=err)
    print(f"# seed {args.seed} for every answer, each in a fresh session", file=err)
    return 0
