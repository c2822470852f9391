"""The `llm-tui` command line: every command, option and valid range, and nothing heavy.

Only argparse and plain values are imported here, so ``--version`` and ``--help`` answer about as
fast as Python starts; each command's module (and libllama, the hub client, Textual) is imported
when that command runs.
"""

from __future__ import annotations

import argparse
import os
import sys

from tui import __version__
from tui.core import teach as teaching

TYPE_CHECKING = False  # typing itself costs --help 2 ms; type checkers treat this name as True
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path
    from typing import Any

    Filler = Callable[[argparse.ArgumentParser], None]

DEFAULT_QUANT = "Q4_K_M"


def _path(text: str) -> Path:
    from pathlib import Path  # pathlib costs a few milliseconds that --help need not pay

    return Path(text)


def _model(text: str) -> str:
    """``--model``: a catalog id or a file; empty is refused (it silently meant the default)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "empty: name a catalog id or a .gguf file (leave it out for the default)"
        )
    return text


def _ranged(name: str) -> Callable[[str], float]:
    """An argparse type that parses a number and checks it against its range in `tui.core.settings.limits`
    (imported when a value is parsed: ``--help`` does without it)."""

    def parse(text: str) -> float:
        from tui.core.settings.limits import RANGES

        valid = RANGES[name]
        try:
            value: float = int(text) if valid.integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {valid.describe()}, not {text!r}") from None
        problem = valid.check(value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    parse.__name__ = name  # argparse names the type in some messages
    return parse


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high}, not {text!r}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, not {value}")
        return value

    return parse


def _float_between(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a number from {low:g} to {high:g}, not {text!r}"
            ) from None
        if not low <= value <= high:  # (nan is refused here too)
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}, not {text}")
        return value

    return parse


KV_CACHE_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")
"""As `tui.core.settings.limits.KV_CACHE_TYPES` (a test keeps them equal; --help does without it)."""


def _model_options(parser: argparse.ArgumentParser, top: bool = False) -> None:
    """The model options, accepted before or after the subcommand.

    On subcommands they default to SUPPRESS, so a value given before the subcommand is not
    overwritten by the subcommand's own default.
    """
    default = None if top else argparse.SUPPRESS
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        "-m",
        default=default,
        type=_model,
        help="catalog id or path to a .gguf (default: the embedded SmolLM2)",
    )
    group.add_argument(
        "--persona",
        "-p",
        default=default,
        metavar="ID",
        help="use a persona: its system message and sampling settings (see `llm-tui personas list`)",
    )
    system = group.add_mutually_exclusive_group()
    system.add_argument("--system", "-s", default=default, help="the hidden system message to send")
    system.add_argument(
        "--no-system",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="send no system message at all (the model's template decides what happens)",
    )
    group.add_argument(
        "--ctx", type=_ranged("n_ctx"), metavar="N", default=default, help="context length in tokens"
    )
    group.add_argument(
        "--threads",
        type=_ranged("n_threads"),
        metavar="N",
        default=default,
        help="CPU threads (default: the physical cores less those busy with other work)",
    )
    group.add_argument(
        "--thinking",
        choices=("on", "off"),
        default=default,
        help="reasoning models: set the chat template's enable_thinking (Qwen3, SmolLM3)",
    )
    group.add_argument(
        "--chat-template-file",
        type=_path,
        metavar="PATH",
        default=default,
        help="a Jinja chat template to use instead of the model's own",
    )
    group.add_argument(
        "--gpu-layers",
        type=_ranged("n_gpu_layers"),
        metavar="N",
        default=default,
        help="layers to offload to the GPU (-1: all; default: all on a GPU build, else 0)",
    )
    # llama.cpp's own flags, with its defaults (config.toml [engine] sets them for every model)
    tuning = parser.add_argument_group("llama.cpp (default: as llama.cpp's own programs)")
    tuning.add_argument("--flash-attn", "-fa", choices=("auto", "on", "off"), default=default)
    tuning.add_argument(
        "--batch-size", "-b", dest="n_batch", type=_ranged("n_batch"), metavar="N", default=default,
        help="logical batch for the prompt (2048)",
    )  # fmt: skip
    tuning.add_argument(
        "--ubatch-size", "-ub", dest="n_ubatch", type=_ranged("n_ubatch"), metavar="N", default=default,
        help="physical batch (512)",
    )  # fmt: skip
    tuning.add_argument(
        "--threads-batch", "-tb", dest="n_threads_batch", type=_ranged("n_threads_batch"), metavar="N",
        default=default, help="threads for the prompt (default: as --threads)",
    )  # fmt: skip
    for which in ("k", "v"):
        tuning.add_argument(
            f"--cache-type-{which}", f"-ct{which}", dest=f"cache_type_{which}", metavar="TYPE",
            choices=KV_CACHE_TYPES, default=default, help=f"KV cache type for {which.upper()} (f16)",
        )  # fmt: skip
    tuning.add_argument(
        "--no-mmap", dest="mmap", action="store_false", default=default, help="read the weights into memory"
    )
    tuning.add_argument(
        "--no-repack", dest="repack", action="store_false", default=default,
        help="keep the weights' layout (no repacking for this CPU)",
    )  # fmt: skip


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, sized without `shutil` (which brings bz2 and lzma: 2 ms of --help)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2)


def _columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` finds it: $COLUMNS, the terminal, 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Commands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Subcommands whose options are added when that command is parsed.

    `--help` lists only the commands' names and summaries, and a command needs only its own
    options: building all of them up front was a quarter of `llm-tui --help`'s time.
    """

    fillers: dict[str, Filler]

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        name = values[0] if isinstance(values, list) and values else None
        if isinstance(name, str) and name in self.fillers:
            command = self.choices[name]
            self.fillers.pop(name)(command)
            command.add_argument("--version", action="version", version=f"llm-tui {__version__}")
        super().__call__(parser, namespace, values, option_string)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-tui",
        description="Chat with a local language model, and see exactly what it is sent.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"llm-tui {__version__}")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="never touch the network (also HF_HUB_OFFLINE=1): downloaded and local models only",
    )
    parser.add_argument(
        "--server",
        metavar="URL",
        help="use the model a llama-server runs (also $LLM_TUI_SERVER, or [server] url in config.toml)",
    )
    _model_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", action=_Commands)
    assert isinstance(sub, _Commands)
    sub.fillers = {}
    for name, summary, fill, _runner in COMMANDS:
        sub.add_parser(name, help=summary, formatter_class=_Formatter)
        sub.fillers[name] = fill
    return parser


def _prompt(prompt: argparse.ArgumentParser) -> None:
    prompt.add_argument("message")
    shape = prompt.add_mutually_exclusive_group()
    shape.add_argument("--tokens", action="store_true", help="list the tokens: index, id, piece")
    shape.add_argument("--json", action="store_true", help="machine-readable: text, tokens, spans")
    shape.add_argument("--parts", action="store_true", help="tokens per part: system, template, history, …")
    prompt.add_argument(
        "--diff",
        metavar="SESSION",
        help="as the next turn of a saved session, marking what is new since its last prompt "
        "(with --tokens, --json or --parts too)",
    )
    _model_options(prompt)


def _ask(ask: argparse.ArgumentParser) -> None:
    ask.add_argument("message")
    ask.add_argument("--seed", type=_ranged("seed"), help="sampling seed (default: a random one, printed)")
    ask.add_argument(
        "--temperature", "-t", type=_ranged("temperature"), help="sampling temperature (0 = greedy)"
    )
    ask.add_argument("--max-tokens", type=_ranged("max_tokens"), help="longest reply, in tokens")
    ask.add_argument(
        "--thinking-output",
        choices=("stderr", "hide", "stdout"),
        default="stderr",
        help="where a reasoning model's thinking goes (default stderr; stdout gets the answer only)",
    )
    _model_options(ask)


def _info(info: argparse.ArgumentParser) -> None:
    info.add_argument(
        "--model",
        "-m",
        default=argparse.SUPPRESS,
        type=_model,
        help="also load this model and report what the engine did",
    )


def _paths(paths: argparse.ArgumentParser) -> None:
    """No options of its own."""


def _personas(personas: argparse.ArgumentParser) -> None:
    verbs = personas.add_subparsers(dest="verb", metavar="VERB", required=True)
    verbs.add_parser("list", help="every persona, with broken files and their errors")
    show = verbs.add_parser("show", help="a persona's file path and content")
    show.add_argument("id")
    new = verbs.add_parser("new", help="write a commented template for a new persona and print its path")
    new.add_argument("id")
    edit = verbs.add_parser(
        "edit", help="open a persona in $VISUAL or $EDITOR (bundled ones are copied first)"
    )
    edit.add_argument("id")
    validate = verbs.add_parser("validate", help="check persona files; exit status 1 on any error")
    validate.add_argument("paths", nargs="*", type=_path, help="files to check (default: every persona)")


def _models(models: argparse.ArgumentParser) -> None:
    verbs = models.add_subparsers(dest="verb", metavar="VERB", required=True)
    verbs.add_parser("list", help="every catalog model: size, whether it fits, whether it is here")
    pull_cmd = verbs.add_parser("pull", help="download a catalog model (resumes an interrupted download)")
    pull_cmd.add_argument("id")
    add = verbs.add_parser("add", help="add a GGUF from a hub repo to your catalog")
    add.add_argument("repo", help="owner/name on the Hugging Face hub")
    which = add.add_mutually_exclusive_group()
    which.add_argument(
        "--quant", default=DEFAULT_QUANT, help=f"quantisation to pick (default {DEFAULT_QUANT})"
    )
    which.add_argument("--file", help="the exact .gguf file name")
    add.add_argument("--id", dest="new_id", help="catalog id for it (default: from the file name)")
    rm = verbs.add_parser("rm", help="delete a downloaded model file")
    rm.add_argument("id")
    rm.add_argument("--yes", "-y", action="store_true", help="do not ask")
    info = verbs.add_parser("info", help="a model's catalog entry, and its GGUF header if it is here")
    info.add_argument("id")
    path = verbs.add_parser("path", help="print a downloaded model's file (to start llama-server with it)")
    path.add_argument("id")


def _sessions(sessions: argparse.ArgumentParser) -> None:
    verbs = sessions.add_subparsers(dest="verb", metavar="VERB", required=True)
    verbs.add_parser("list", help="saved sessions, newest first")
    show = verbs.add_parser(
        "show", help="one session as Markdown (the current path), with the exact prompt of each turn"
    )
    show.add_argument("id")
    show.add_argument(
        "--tree", action="store_true", help="every branch as an indented outline, one line per message"
    )
    export = verbs.add_parser("export", help="write one session as Markdown or JSON")
    export.add_argument("id")
    export.add_argument("--format", choices=("md", "json"), default="md")
    export.add_argument(
        "--all",
        action="store_true",
        help="Markdown: every branch under nested headings (default: the current path)",
    )
    export.add_argument("--output", "-o", type=_path, help="file to write (default: stdout)")


def _probe(probe: argparse.ArgumentParser) -> None:
    probe.add_argument("question", nargs="?", help='default: "Who are you? Who made you?"')
    probe.add_argument(
        "--persona",
        "-p",
        action="append",
        dest="probe_personas",
        metavar="ID",
        help="persona to ask under (repeatable; default: none, then every persona tagged `identity`)",
    )
    probe.add_argument(
        "--seed", type=_ranged("seed"), default=42, help="the same seed for every answer (default 42)"
    )
    probe.add_argument("--max-tokens", type=_ranged("max_tokens"), default=60)
    probe.add_argument("--prompts", action="store_true", help="also print each hidden prompt")
    probe.add_argument(
        "--model", "-m", default=argparse.SUPPRESS, type=_model, help="catalog id or path to a .gguf"
    )


def _teach(teach: argparse.ArgumentParser) -> None:
    teach.add_argument("persona_id", metavar="PERSONA", help="the persona to teach (its id)")
    teach.add_argument(
        "--model", "-m", help="the base model: catalog id or .gguf (default: the persona's, else the default)"
    )
    teach.add_argument(
        "--data", type=_path, metavar="FILE", help="teach this JSONL set instead of making one"
    )
    teach.add_argument(
        "--write-data",
        type=_path,
        metavar="FILE",
        help="make the set, write it here and stop (edit it, then --data)",
    )
    teach.add_argument(
        "--epochs",
        type=_int_between(1, 100),
        default=teaching.EPOCHS,
        help=f"passes over the set (default {teaching.EPOCHS})",
    )
    teach.add_argument(
        "--lr",
        type=_float_between(1e-7, 1e-2),
        default=teaching.LEARNING_RATE,
        help=f"learning rate (default {teaching.LEARNING_RATE:g})",
    )
    teach.add_argument(
        "--ctx",
        type=_int_between(256, 4096),
        default=256,
        help="tokens per training window, a multiple of 256",
    )
    teach.add_argument("--name", help="the taught model's id (default: PERSONA-MODEL)")
    teach.add_argument("--threads", "-t", type=_int_between(1, 1024), help="default: the physical cores")


COMMANDS: tuple[tuple[str, str, Filler, str], ...] = (
    ("prompt", "print the exact hidden prompt a message would be sent as", _prompt, "tui.cli.prompt:run"),
    ("ask", "stream one reply to stdout (stats on stderr); a fresh session", _ask, "tui.cli.ask:run"),
    ("info", "llama.cpp build, GPU offload, paths, the default model", _info, "tui.cli.info:run"),
    ("paths", "print where llm-tui keeps config, data and cache", _paths, "tui.cli.info:run_paths"),
    ("personas", "list, show, create, edit and validate personas", _personas, "tui.cli.personas:run"),
    ("models", "the model catalog: list, pull, add, rm, info", _models, "tui.cli.models:run"),
    ("sessions", "saved session transcripts: list, show, export", _sessions, "tui.cli.sessions:run"),
    ("probe", "ask who the model is: with no system message and under personas", _probe, "tui.cli.probe:run"),
    (
        "teach",
        "teach a persona into a copy of a model's weights (no system message needed)",
        _teach,
        "tui.cli.teach:run",
    ),
)
"""Every command in one row: its name, its line in `llm-tui --help`, what adds its options, and
its runner (``module:function``, imported only when it runs; each takes ``(args, out, err)``)."""

TUI_RUNNER = "tui.cli.start:run"
"""No command: the TUI."""


def runner_of(command: str | None) -> str:
    """The runner of ``command`` (None: the TUI)."""
    return next((row[3] for row in COMMANDS if row[0] == command), TUI_RUNNER)
