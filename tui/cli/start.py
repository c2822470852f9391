"""`llm-tui` with no command: the TUI."""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn, TextIO

from tui.cli.errors import print_error
from tui.cli.setup import flag_options, server_of


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The TUI (no command given); a crash prints one line and exits 70, never 0."""
    from tui.ui.app import AppConfig, create_app

    # llama_cpp is imported by the model load, after the first frame (it costs ~100 ms); importing
    # it prints nothing, and the engine routes llama.cpp's log away from the screen before its
    # first call into llama.cpp.
    config = AppConfig(
        thinking=None if args.thinking is None else args.thinking == "on",
        chat_template_file=args.chat_template_file,
        server=server_of(args),
        model=args.model,
        persona=args.persona,
        system=args.system,
        no_system=args.no_system,
        load=flag_options(args),
    )
    from tui.core.prompt.template import SANDBOX

    app = create_app(config)
    try:
        app.run()
    finally:
        SANDBOX.close()  # a render still running in a worker ends now, not at its time limit
    for text in app.unsent():
        print_error(f"llm-tui: not sent (no model had loaded yet), your message: {text}")
    if app.crash_error is not None:
        from tui.core.crash import EXIT_CRASH, one_line

        print_error(one_line(app.crash_error, app.crash_report))
        leave(EXIT_CRASH)
    leave(app.return_code or 0)


def leave(code: int) -> NoReturn:
    """End the process now that the app has saved everything and the terminal is back.

    A thread can still be blocked where no stop reaches it (a model still loading, a server that
    never answered ``/props``); Python joins such threads at exit (concurrent.futures does), which
    kept the process alive, unseen, for up to two minutes after the screen was gone.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
