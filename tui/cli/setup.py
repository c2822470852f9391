"""What the commands share: the persona named by flags, the engine they run on, the session
settings the flags make (each command's own module imports this when it runs)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from tui.core.problems import ProblemError

if TYPE_CHECKING:
    from tui.core.chat.session import ChatEngine
    from tui.core.chat.settings import SessionSettings
    from tui.core.engine.values import LoadOptions
    from tui.core.personas.format import Persona
    from tui.core.settings.server import ServerSettings


def persona_of(args: argparse.Namespace) -> Persona | None:
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
            engine = load_here(args, persona)
    except EngineError as exc:
        raise ProblemError(str(exc)) from exc
    template_file = (settings or session_of(args, persona)).template_file
    if template_file is not None:
        engine.use_template_file(template_file)
    for warning in engine.info.warnings:
        print(f"llm-tui: warning: {warning}", file=sys.stderr)
    return engine


def load_here(args: argparse.Namespace, persona: Persona | None) -> ChatEngine:
    from tui.core.engine.local import open_local
    from tui.core.models.catalog import ModelNotFoundError

    try:
        return open_local(args.model or (persona.model if persona else None), flag_options(args), quiet=True)
    except ModelNotFoundError as exc:
        raise ProblemError(model_problem(exc, args.model, persona)) from exc


def model_problem(exc: Exception, flag: str | None, persona: Persona | None) -> str:
    """A model that cannot be found, said with where it was named (a persona file's ``model``)."""
    if not flag and persona is not None and persona.model and persona.path is not None:
        return f"{persona.path}: model = {persona.model!r}: {exc}"
    return str(exc)


def flag_options(args: argparse.Namespace) -> LoadOptions:
    """The load settings given as flags (None where a flag was not given)."""
    from tui.core.engine.values import LoadOptions
    from tui.core.settings.limits import LOAD_KEYS

    names = {"n_ctx": "ctx", "n_threads": "threads", "n_gpu_layers": "gpu_layers"}
    return LoadOptions(**{key: getattr(args, names.get(key, key), None) for key in LOAD_KEYS})


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
