"""The commands themselves: prompt, ask, info, paths and the TUI (the others have modules of their own).

Imported only once a command runs, so `--version` and `--help` never pay for it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, TextIO

from tui import __version__
from tui.cli.errors import print_error
from tui.core.problems import ProblemError
from tui.core.text_safety import terminal_safe, visible_controls

if TYPE_CHECKING:
    from tui.core.chat.session import ChatEngine
    from tui.core.chat.settings import SessionSettings
    from tui.core.engine.values import LoadOptions
    from tui.core.personas.format import Persona
    from tui.core.settings.server import ServerSettings

EXIT_INTERRUPTED = 130


def _persona(args: argparse.Namespace) -> Persona | None:
    """The persona named by --persona, or None; a clear error if it is unknown or broken."""
    from tui.paths import get_paths

    if not args.persona:
        return None
    from tui.core.personas.store import PersonaStore

    found = PersonaStore(get_paths()).load()
    persona = found.get(args.persona)
    if persona is not None:
        return persona
    for broken in found.broken:
        if broken.id == args.persona:
            raise ProblemError(f"persona `{args.persona}` cannot be used: {broken.errors[0]}")
    raise ProblemError(f"no persona `{args.persona}`; known: {', '.join(sorted(found.personas))}")


SERVER_OWNS = (
    ("model", "--model"),
    ("ctx", "--ctx"),
    ("threads", "--threads"),
    ("gpu_layers", "--gpu-layers"),
    ("flash_attn", "--flash-attn"),
    ("n_batch", "--batch-size"),
    ("n_ubatch", "--ubatch-size"),
    ("n_threads_batch", "--threads-batch"),
    ("cache_type_k", "--cache-type-k"),
    ("cache_type_v", "--cache-type-v"),
    ("mmap", "--no-mmap"),
    ("repack", "--no-repack"),
)
"""Options that choose or load a model: with a server, the server has already done that."""


def server_of(args: argparse.Namespace) -> ServerSettings | None:
    """The llama-server to use (``--server``, ``$LLM_TUI_SERVER``, ``[server]`` in config.toml), if any."""
    from tui.core.settings.server import server_settings
    from tui.paths import get_paths

    try:
        settings, problems = server_settings(get_paths(), getattr(args, "server", None))
    except ValueError as exc:
        raise ProblemError(str(exc)) from exc
    for problem in problems:
        print(f"llm-tui: warning: {problem}", file=sys.stderr)
    if settings is None:
        return None
    for name, flag in SERVER_OWNS:
        if getattr(args, name, None) is not None:
            raise ProblemError(
                f"{flag} cannot be used with a server ({settings.url}): the server chose the model and "
                "how it runs; start llama-server with what you want, or drop --server"
            )
    if getattr(args, "offline", False) and not settings.is_loopback():
        raise ProblemError(f"--offline: {settings.url} is not on this machine")
    return settings


def load_engine(
    args: argparse.Namespace, persona: Persona | None = None, settings: SessionSettings | None = None
) -> ChatEngine:
    """The engine a command runs on: the server's model, or a model loaded here (the persona's
    ``model`` unless --model says otherwise), with the session's template file if it has one."""
    from tui.core.engine.values import EngineError

    server = server_of(args)
    try:
        if server is not None:
            from tui.core.engine.server import ServerEngine

            engine: ChatEngine = ServerEngine(server)
        else:
            engine = _load_here(args, persona)
    except EngineError as exc:
        raise ProblemError(str(exc)) from exc
    template_file = (settings or session_of(args, persona)).template_file
    if template_file is not None:
        engine.use_template_file(template_file)
    for warning in engine.info.warnings:
        print(f"llm-tui: warning: {warning}", file=sys.stderr)
    return engine


def _load_here(args: argparse.Namespace, persona: Persona | None) -> ChatEngine:
    from tui.core.engine.local import open_local
    from tui.core.models.catalog import ModelNotFoundError

    try:
        return open_local(args.model or (persona.model if persona else None), flag_options(args), quiet=True)
    except ModelNotFoundError as exc:
        raise ProblemError(str(exc)) from exc


def flag_options(args: argparse.Namespace) -> LoadOptions:
    """The load settings given as flags (None where a flag was not given)."""
    from tui.core.engine.values import LoadOptions
    from tui.core.settings.limits import LOAD_KEYS

    names = {"n_ctx": "ctx", "n_threads": "threads", "n_gpu_layers": "gpu_layers"}
    return LoadOptions(**{key: getattr(args, names.get(key, key), None) for key in LOAD_KEYS})


def cmd_paths(out: TextIO) -> int:
    from tui.paths import get_paths

    rows = get_paths().as_rows()
    width = max(len(name) for name, _ in rows)
    for name, path in rows:
        print(f"{name:<{width}}  {path}", file=out)
    return 0


def cmd_info(args: argparse.Namespace, out: TextIO) -> int:
    from tui.core.engine.llama import build_info
    from tui.core.models.embedded import INSTALL_HINT, embedded_model_path

    print(f"llm-tui {__version__}", file=out)
    for key, value in build_info().items():
        print(f"{key}: {value}", file=out)
    embedded = embedded_model_path()
    default = str(embedded) if embedded else f"not installed ({INSTALL_HINT})"
    print(f"default model: {default}", file=out)
    cmd_paths(out)
    settings = server_of(args)
    if settings is not None:
        from tui.core.engine.server import ServerEngine
        from tui.core.engine.values import EngineError

        try:
            engine = ServerEngine(settings)
        except EngineError as exc:
            raise ProblemError(str(exc)) from exc
        props = engine.props
        print(f"server: {settings.url} ({props.get('build_info', 'build unknown')})", file=out)
        print(f"server model: {props.get('model_path')}", file=out)
        print(f"context: {engine.info.n_ctx}; chat template: {engine.info.template_name}", file=out)
        print(
            "flash attention, batches, threads, KV cache: as llama-server was started "
            "(its /props does not report them; llama-server's defaults are llama.cpp's, as llm-tui's)",
            file=out,
        )
        engine.close()
    elif args.model:
        info = load_engine(args).info
        print(f"model: {info.name} ({info.architecture}) from {info.path}", file=out)
        auto = info.runtime is not None and info.runtime.threads_auto
        threads = f"{info.n_threads}" + (" (auto: the cores other work leaves free)" if auto else "")
        print(f"context: {info.n_ctx} of {info.n_ctx_train} trained; threads: {threads}", file=out)
        print(f"device: {info.device}; loaded in {info.load_seconds:.2f}s", file=out)
        for label, value in info.runtime.rows() if info.runtime else ():
            print(f"{label}: {value}", file=out)
        print(f"chat template: {info.template_name}", file=out)
    return 0


def cmd_prompt(args: argparse.Namespace, out: TextIO) -> int:
    from tui.cli import inspect as cli_inspect
    from tui.core.chat.session import Session
    from tui.core.engine.values import ContextFullError
    from tui.core.prompt.template import TemplateRenderError

    persona = _persona(args)
    settings = session_of(args, persona)
    engine = load_engine(args, persona, settings)
    try:
        if args.diff:  # the saved session's own settings, prepared as the chat would go on
            session = cli_inspect.diff_session(args.diff)
            prompt = session.prepare(engine, args.message).prompt
            cli_inspect.print_diff(session.turns[-1].prompt.text, prompt, out, sys.stderr)
            return 0
        messages = Session(settings.system, settings.sampling).messages(args.message)
        prompt = engine.build_prompt(messages, settings.parse_special, settings.variables)
    except TemplateRenderError as exc:
        raise ProblemError(str(exc)) from exc
    except ContextFullError as exc:
        raise ProblemError(f"{exc} (`--ctx` sets a larger context)") from exc
    if args.parts:
        cli_inspect.print_parts(prompt, engine.info.n_ctx, out)
        return 0
    if args.json:
        json.dump(prompt.to_json(), out, ensure_ascii=False, indent=2)
        print(file=out)
        return 0
    color = out.isatty() and "NO_COLOR" not in os.environ
    if args.tokens:
        for index, token in enumerate(prompt.tokens):
            mark = "*" if token.special else " "
            print(f"{index:>5} {token.id:>7} {mark} {token.text!r}", file=out)  # repr: controls escaped
    else:
        out.write(_ansi_specials(prompt.runs()) if color else terminal_safe(prompt.text, out))
        if not prompt.text.endswith("\n"):
            out.write("\n")
    notes = [f"{len(prompt)} tokens, {engine.info.template_name}", *prompt.notes]
    for note in notes:
        print(f"# {note}", file=sys.stderr)
    return 0


def _ansi_specials(runs: list[tuple[str, bool]]) -> str:
    """Special tokens in reverse video, so the template's own markers stand out in a terminal."""
    shown = [(visible_controls(text), special) for text, special in runs]
    return "".join(f"\x1b[7m{text}\x1b[27m" if special else text for text, special in shown)


def session_of(args: argparse.Namespace, persona: Persona | None) -> SessionSettings:
    """What the persona and the flags make of a session (`tui.core.chat.settings`): --system or
    --no-system over the persona's system message, --seed, --temperature and --max-tokens over its
    sampling, --thinking over its [template] table, --chat-template-file over its template file."""
    from tui.core.chat.settings import Overrides, session_settings

    no_system = bool(getattr(args, "no_system", False))
    system = getattr(args, "system", None)
    overrides = Overrides(
        system=None if no_system else system,
        replace_system=no_system or system is not None,
        sampling={name: getattr(args, name, None) for name in ("seed", "temperature", "max_tokens")},
        thinking=None if getattr(args, "thinking", None) is None else args.thinking == "on",
        template_file=getattr(args, "chat_template_file", None),
    )
    return session_settings(persona, overrides)


def cmd_ask(args: argparse.Namespace) -> int:
    from tui.core.chat.session import Chat
    from tui.core.engine.values import EngineError, ReplyStats

    persona = _persona(args)
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

    def write(self, kind: str, text: str) -> None:
        if kind == "markup" or not text:
            return
        if kind == "thinking":
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
        sys.stdout.write(terminal_safe(text, sys.stdout))  # a model may emit escapes too
        sys.stdout.flush()

    def close(self) -> None:
        if self._open:
            stream = sys.stderr if self.where == "stderr" else sys.stdout
            print("\n--- end of thinking ---", file=stream, flush=True)
            self._open = False


def cmd_tui(args: argparse.Namespace) -> int:
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
    if app.crash_error is not None:
        from tui.core.crash import EXIT_CRASH, one_line

        print_error(one_line(app.crash_error, app.crash_report))
        return EXIT_CRASH
    return app.return_code or 0
