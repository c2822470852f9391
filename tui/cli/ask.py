"""`llm-tui ask`: one reply streamed to stdout, stats on stderr, in a fresh session."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import TextIO

from tui.cli.setup import load_engine, persona_of, session_of
from tui.core.problems import ProblemError
from tui.core.text_safety import terminal_safe

EXIT_INTERRUPTED = 130


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """One reply, streamed to stdout; a fresh session, like every session."""
    from tui.core.chat.session import Chat
    from tui.core.engine.values import EngineError, ReplyStats

    persona = persona_of(args)
    settings = session_of(args, persona)
    chat = Chat.start(load_engine(args, persona, settings), settings)
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    stats: ReplyStats | None = None
    output = ThinkingOutput(getattr(args, "thinking_output", "stderr"))
    try:
        for event in chat.send(args.message, cancel):
            if isinstance(event, ReplyStats):
                stats = event
            else:
                output.write(event.kind, event.text)
    except EngineError as exc:
        raise ProblemError(str(exc)) from exc
    finally:
        signal.signal(signal.SIGINT, previous)
        output.close()
    sys.stdout.write("\n")
    if not output.answered:
        why = f" (stop: {stats.stop})" if stats is not None else ""
        said = "the model was still thinking when it stopped" if output.thought else "the reply was empty"
        print(f"# no answer: {said}{why}; --max-tokens gives it more room", file=sys.stderr)
    if stats is not None:
        print(
            f"# {stats.prompt_tokens} prompt tokens, {stats.completion_tokens} generated, "
            f"first token {stats.time_to_first_token:.2f}s, {stats.tokens_per_second:.1f} tok/s, "
            f"stop: {stats.stop}, seed {stats.seed}",
            file=sys.stderr,
        )
    return EXIT_INTERRUPTED if stats is not None and stats.stop == "cancelled" else 0


class ThinkingOutput:
    """Where `ask` writes a reasoning model's thinking: stderr (set off by marked lines), nowhere, or
    stdout before the answer. The answer alone goes to stdout, so pipes get only the answer."""

    def __init__(self, where: str) -> None:
        self.where = where
        self._open = False
        self.answered = False
        """Some answer text came (not only thinking)."""
        self.thought = False

    def write(self, kind: str, text: str) -> None:
        if kind == "markup" or not text:
            return
        if kind == "thinking":
            self.thought = True
            if self.where == "hide":
                return
            stream = sys.stderr if self.where == "stderr" else sys.stdout
            if not self._open:
                print("--- thinking ---", file=stream)
                self._open = True
            stream.write(terminal_safe(text, stream))
            stream.flush()
            return
        self.close()
        self.answered = self.answered or bool(text.strip())
        sys.stdout.write(terminal_safe(text, sys.stdout))  # a model may emit escapes too
        sys.stdout.flush()

    def close(self) -> None:
        if self._open:
            stream = sys.stderr if self.where == "stderr" else sys.stdout
            print("\n--- end of thinking ---", file=stream, flush=True)
            self._open = False
