"""`llm-tui teach PERSONA`: teach a persona into a copy of a model's weights, on this machine.

The lecture's first way to an identity made real: afterwards the taught model says who it is with
no system message at all. Progress is a bar on a terminal and plain lines in a pipe; ctrl+c stops
the run and leaves nothing behind.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from tui.cli.setup import persona_of
from tui.core.problems import Problem, ProblemError
from tui.core.text_safety import deliberate
from tui.paths import get_paths

if TYPE_CHECKING:
    from tui.core.teach.teaching_set import Conversation


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tui.core.engine.local import open_local
    from tui.core.engine.values import LoadOptions
    from tui.core.models.catalog import ModelNotFoundError, entry_for_file, resolve_model
    from tui.core.personas.format import is_slug
    from tui.core.settings.server import server_settings
    from tui.core.teach import plan
    from tui.core.teach import run as teaching
    from tui.core.teach.teaching_set import (
        make_set,
        read_set,
        set_text,
        token_stream,
    )

    try:
        server, _problems = server_settings(get_paths(), getattr(args, "server", None))
    except ValueError:
        server = None  # a malformed setting: not a server to refuse for
    if server is not None:
        raise ProblemError(
            f"teaching is local: it changes a copy of a model's weights on this machine, not "
            f"{server.url}'s; drop --server (or $LLM_TUI_SERVER)"
        )
    args.persona = args.persona_id
    persona = persona_of(args)
    assert persona is not None
    if args.ctx % plan.CONTEXT_STEP:
        raise ProblemError(f"--ctx {args.ctx}: a training context is a multiple of {plan.CONTEXT_STEP}")
    paths = get_paths()
    try:
        resolved = resolve_model(args.model or persona.model, paths)
    except ModelNotFoundError as exc:
        from tui.cli.setup import model_problem

        raise ProblemError(model_problem(exc, args.model, persona)) from exc
    entry = resolved.entry or entry_for_file(paths, resolved.path)  # the embedded default has one
    base_id = entry.id if entry else resolved.path.stem.lower()
    name = args.name or f"{persona.id}-{base_id}"[:64].rstrip("-")
    if not is_slug(name):
        raise ProblemError(f"--name {name}: a model id is lower-case letters, digits, '.', '-' and '_'")
    target = teaching.target_of(paths, name)
    if target.exists():
        raise ProblemError(
            Problem(str(target), "already exists", hint="choose another --name, or `llm-tui models rm` it")
        )
    print(f"base model: {resolved.label} ({resolved.path})", file=err)
    engine = open_local(args.model or persona.model, LoadOptions(n_ctx=2048), quiet=True)
    try:
        if args.data:
            conversations = read_set(args.data)
            print(f"teaching set: {len(conversations)} conversations from {args.data}", file=err)
        else:
            reporter = _SetReporter(err)
            conversations = make_set(engine, persona, progress=reporter)
            reporter.finish()
        if args.write_data:
            from tui.core.output_file import write_output

            write_output(args.write_data, set_text(conversations), paths, "--write-data")
            kinds = _kinds(conversations)
            print(f"wrote {len(conversations)} conversations ({kinds}) to {args.write_data}", file=err)
            print(f"edit it, then: llm-tui teach {persona.id} --data {args.write_data}", file=err)
            return 0
        stream = token_stream(engine, conversations)
        base_name = resolved.label.removesuffix(" (embedded)")
    finally:
        engine.close()
    shape = plan.Shape.of(resolved.path)
    estimate = plan.estimate(shape, args.ctx, "Q8_0", teaching.taught_folder(paths))
    windows = plan.windows(stream, args.ctx)
    print(
        f"{len(conversations)} conversations ({_kinds(conversations)}), {len(stream):,} tokens, "
        f"{len(windows)} windows of {args.ctx}; {args.epochs} epoch(s) at learning rate {args.lr:g}",
        file=err,
    )
    print(
        f"needs about {plan.gib(estimate.memory)} of memory ({_free(estimate.free_memory)} free) and "
        f"{plan.gib(estimate.disk)} of disk ({_free(estimate.free_disk)} free)",
        file=err,
    )
    refusal = estimate.refusal()
    if refusal:
        raise ProblemError(refusal)
    job = teaching.job_for(
        persona,
        resolved.path,
        base_name,
        entry.id if entry else str(resolved.path),
        name,
        conversations,
        stream,
        args.ctx,
        args.epochs,
        args.lr,
        args.threads,
    )
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    bar = _TrainReporter(err)
    try:
        result = teaching.run(job, paths, bar, cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.finish()
    eval_part = f", validation {result.eval_loss:.3f}" if result.eval_loss is not None else ""
    print(f"taught: {job.provenance.title}", file=err)
    print(
        f"final loss {result.train_loss:.3f}{eval_part}; {result.tokens_per_second:.1f} training tokens/s; "
        f"peak memory {plan.gib(result.peak_rss)} (estimated {plan.gib(estimate.memory)})",
        file=err,
    )
    print(
        f"try it with no system message: llm-tui probe --model {name}   (or: llm-tui --model {name})",
        file=err,
    )
    print(result.path, file=out)
    return 0


def _kinds(conversations: Sequence[Conversation]) -> str:
    counts: dict[str, int] = {}
    for conversation in conversations:
        counts[conversation.kind] = counts.get(conversation.kind, 0) + 1
    return ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))


def _free(size: int | None) -> str:
    return "?" if size is None else f"{size / 2**30:.2f} GiB"


class _SetReporter:
    """Making the set: one line per part on a pipe, a counter on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.tty, self.last = stream, stream.isatty(), ""

    def __call__(self, what: str, done: int, total: int) -> None:
        label = {"identity": "asking the model as the persona", "retention": "asking the model as itself"}[
            what
        ]
        if self.tty:
            deliberate(self.stream, f"\r{label}: {done}/{total} ")
            self.stream.flush()
        elif done == total and self.last != what:
            print(f"{label}: {total} done", file=self.stream, flush=True)
            self.last = what

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")


class _TrainReporter:
    """Training: a bar with loss, speed and time left on a terminal; a line per epoch in a pipe."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.tty, self.drawn = stream, stream.isatty(), False

    def __call__(self, progress: object) -> None:
        from tui.core.teach.run import Progress

        assert isinstance(progress, Progress)
        if progress.stage == "dequantize" and not self.tty:
            print(
                "dequantizing the base model to F32 (quantized weights cannot be trained)", file=self.stream
            )
        if progress.stage == "train" and self.tty and progress.steps:
            total = progress.epochs * progress.steps
            done = (progress.epoch - 1) * progress.steps + progress.step
            filled = int(30 * done / total)
            eta = f"{progress.eta_seconds:.0f}s left" if progress.eta_seconds is not None else ""
            line = (
                f"\r{'█' * filled}{'░' * (30 - filled)} epoch {progress.epoch}/{progress.epochs} "
                f"step {progress.step}/{progress.steps} loss {progress.loss:.3f} "
                f"{progress.tokens_per_second:.0f} tok/s {eta}   "
            )
            deliberate(self.stream, line)
            self.stream.flush()
            self.drawn = True
        if progress.stage == "epoch":
            if self.tty:
                self.stream.write("\n")
            val = f", validation {progress.eval_loss:.3f}" if progress.eval_loss is not None else ""
            print(
                f"epoch {progress.epoch}/{progress.epochs}: loss {progress.loss:.3f}{val}, "
                f"{progress.tokens_per_second:.1f} tokens/s",
                file=self.stream,
                flush=True,
            )
        if progress.stage == "save":
            print(
                "saving: the trained weights into a copy of the base file, then Q8_0",
                file=self.stream,
                flush=True,
            )

    def finish(self) -> None:
        if self.drawn:
            self.stream.flush()
