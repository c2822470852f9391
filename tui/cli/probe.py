"""`llm-tui probe`: who the model says it is, with no system message and under personas."""

from __future__ import annotations

import argparse
from typing import TextIO

from tui.cli.setup import load_engine
from tui.core.chat.experiments import IDENTITY_QUESTION
from tui.paths import get_paths


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
    for answer in identity_probe(engine, args.question or IDENTITY_QUESTION, subjects, sampling):
        system = answer.system or "none: the template decides"
        print(f"== {answer.label}\nsystem: {system}\nanswer: {answer.text}\n", file=out)
        if args.prompts:
            print(answer.prompt.text, file=out)
    print(f"# seed {args.seed} for every answer, each in a fresh session", file=err)
    return 0
