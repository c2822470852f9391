"""`llm-tui paths` and `llm-tui info`: where things are, and what llama.cpp and the model run with."""

from __future__ import annotations

import argparse
from typing import TextIO

from tui import __version__
from tui.cli.setup import load_engine, server_of
from tui.core.problems import ProblemError


def run_paths(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tui.paths import get_paths

    rows = get_paths().as_rows()
    width = max(len(name) for name, _ in rows)
    for name, path in rows:
        print(f"{name:<{width}}  {path}", file=out)
    return 0


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    print(f"llm-tui {__version__}", file=out)
    settings = server_of(args)
    if settings is None:  # what runs models here; with a server, nothing here does (no libllama)
        from tui.core.engine.llama import build_info
        from tui.core.models.embedded import INSTALL_HINT, embedded_model_path

        for key, value in build_info().items():
            print(f"{key}: {value}", file=out)
        embedded = embedded_model_path()
        default = str(embedded) if embedded else f"not installed ({INSTALL_HINT})"
        print(f"default model: {default}", file=out)
    run_paths(args, out, err)
    if settings is not None:
        from tui.core.engine.server import ServerEngine
        from tui.core.engine.values import EngineError

        try:
            engine = ServerEngine(settings)
        except EngineError as exc:
            raise ProblemError(str(exc)) from exc
        props = engine.props
        print(f"server: {settings.url}, build {_server_build(props.get('build_info'))}", file=out)
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


def _server_build(build: object) -> str:
    """llama-server's own build string; one built without git (from a source archive) says b0."""
    if not isinstance(build, str) or not build:
        return "not reported by the server"
    if build.startswith("b0-"):
        return f"{build} (built without version information, e.g. from a source archive)"
    return build
