"""The `llm-tui` entry point: parse, run one command, and turn every failure into one line.

Only what every run needs is imported here: ``--version`` answers before anything else loads, and
``--help`` needs no more than argparse. Each command's module comes in when that command runs.
"""

from __future__ import annotations

import importlib
import io
import os
import sys

from tui import __version__
from tui.cli.errors import print_error

TYPE_CHECKING = False  # see tui.cli.parser: typing and collections are not needed to run
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from typing import TextIO

    Runner = Callable[[argparse.Namespace, TextIO, TextIO], int]

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; errors are one line, a crash leaves a report and never exits 0."""
    raw = list(sys.argv[1:] if argv is None else argv)
    _forgiving_output()
    try:
        try:
            code = _main(raw)
        except SystemExit as done:  # argparse's --help, --version and usage errors
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
        sys.stdout.flush()  # a short output is still buffered: a reader gone is found here, not at exit
        return code
    except BrokenPipeError:
        # The reader went away (`llm-tui info | head -1`): stop quietly, as shell tools do.
        _drop_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # a problem the user can fix, or the last line of defence
        from tui.core.problems import ProblemError

        if isinstance(exc, ProblemError):
            print_error(f"llm-tui: error: {exc}")
            return EXIT_ERROR
        from tui.core.crash import EXIT_CRASH, one_line, write_report

        print_error(one_line(exc, write_report(exc)))
        return EXIT_CRASH


def _main(raw: list[str]) -> int:
    if raw == ["--version"]:
        print(f"llm-tui {__version__}")
        return 0
    from tui.cli.parser import build_parser, runner_of

    _check_utf8(raw)
    args = build_parser().parse_args(raw)
    if args.offline:
        os.environ["HF_HUB_OFFLINE"] = "1"  # huggingface_hub itself refuses too
    module, _, function = runner_of(args.command).partition(":")
    run: Callable[[argparse.Namespace, TextIO, TextIO], int] = getattr(
        importlib.import_module(module), function
    )
    return run(args, sys.stdout, sys.stderr)


def _forgiving_output() -> None:
    """stdout and stderr never fail on a character (see `tui.core.text_safety.OUTPUT_ERRORS`),
    and on a terminal never pass one it would act on (`tui.core.text_safety.TerminalStream`)."""
    from tui.core.text_safety import OUTPUT_ERRORS, TerminalStream

    if sys.stderr is None:  # started with 2>&- : errors go nowhere, but nothing crashes on them
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the process's life
    if sys.stdout is None:  # started with >&-
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the process's life
        print("llm-tui: warning: stdout is closed; what this command prints is lost", file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            try:
                stream.reconfigure(errors=OUTPUT_ERRORS)
            except (ValueError, OSError):
                pass
    if _is_terminal(sys.stdout):
        sys.stdout = TerminalStream(sys.stdout)
    if _is_terminal(sys.stderr):
        sys.stderr = TerminalStream(sys.stderr)


def _is_terminal(stream: object) -> bool:
    try:
        return isinstance(stream, io.TextIOWrapper) and stream.isatty()
    except (ValueError, OSError):
        return False


def _drop_stdout() -> None:
    """Point stdout at /dev/null so Python's exit flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _check_utf8(argv: Sequence[str]) -> None:
    """Arguments that are not UTF-8 arrive as surrogates and would break much later, far from here."""
    for index, arg in enumerate(argv, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as exc:
            from tui.core.problems import Problem, ProblemError

            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            raise ProblemError(
                Problem(f"argument {index}", f"not valid UTF-8 text: {shown}", hint="pass UTF-8 text")
            ) from exc
