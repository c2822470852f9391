"""`llm-tui models …`: the catalog, downloads from the hub, adding repos, removing files."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

from tui.core.models import gguf, hub
from tui.core.models.catalog import Catalog, CatalogEntry, add_user_entry, load_catalog
from tui.core.models.downloads import DownloadError, Progress, describe, human_bytes, pending_download
from tui.core.models.fit import estimate
from tui.core.models.local import MODEL_STATUS_EMBEDDED, deletable_files, model_status, pull
from tui.core.personas.format import slugify
from tui.core.problems import ProblemError
from tui.core.teach import provenance
from tui.core.text_safety import deliberate, terminal_safe
from tui.paths import Paths, get_paths

SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
LIST_CONTEXT = 4096


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    paths = get_paths()
    try:
        if args.verb == "list":
            return _list(paths, out, err)
        if args.verb == "pull":
            return _pull(paths, _entry(paths, args.id), args.offline, err)
        if args.verb == "add":
            return _add(paths, args, out)
        if args.verb == "rm":
            return _rm(paths, _entry(paths, args.id), args.yes, out)
        if args.verb == "path":
            return _path(paths, args.id, out)
        return _info(paths, _entry(paths, args.id), out)
    except (hub.HubError, DownloadError, gguf.GGUFError) as exc:
        raise ProblemError(str(exc)) from exc


def _entry(paths: Paths, model_id: str) -> CatalogEntry:
    catalog = load_catalog(paths)
    entry = catalog.entries.get(model_id)
    if entry is None:
        raise ProblemError(f"no model `{model_id}` in the catalog; see `llm-tui models list`")
    return entry


def _path(paths: Paths, model_id: str, out: TextIO) -> int:
    """The file of a catalog model, only when it is on this machine."""
    from tui.core.models.catalog import ModelNotFoundError, resolve_model

    entry = _entry(paths, model_id)
    if model_status(entry, paths) not in ("yes", MODEL_STATUS_EMBEDDED):
        raise ProblemError(f"`{model_id}` is not downloaded yet: `llm-tui models pull {model_id}`")
    try:
        print(resolve_model(model_id, paths).path, file=out)
    except ModelNotFoundError as exc:
        raise ProblemError(str(exc)) from exc
    return 0


def _report_problems(catalog: Catalog, err: TextIO) -> None:
    for problem in catalog.problems:
        print(f"warning: {terminal_safe(str(problem), err)}", file=err)


def _list(paths: Paths, out: TextIO, err: TextIO) -> int:
    catalog = load_catalog(paths)
    _report_problems(catalog, err)
    rows = [("ID", "PARAMS", "QUANT", "SIZE", "FITS", "ON DISK", "THINKS")]
    for entry in sorted(catalog.entries.values(), key=lambda e: (e.size, e.id)):
        size = entry.size
        path = entry.local_path(paths)
        fit = estimate(size, LIST_CONTEXT, path)
        rows.append(
            (
                entry.id,
                entry.params or "?",
                entry.quant or "?",
                human_bytes(size) if size else "?",
                fit.label(),
                model_status(entry, paths),
                "yes" if entry.reasoning else "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        print(terminal_safe(line, out), file=out)
    print(
        f"\nFITS: file plus the KV cache at {LIST_CONTEXT} tokens vs free memory (* estimated: not on disk).",
        file=out,
    )
    return 0


def _pull(paths: Paths, entry: CatalogEntry, offline_flag: bool, err: TextIO) -> int:
    if model_status(entry, paths) == MODEL_STATUS_EMBEDDED:
        print(f"{entry.id} is the embedded default model: nothing to download.", file=err)
        return 0
    dest = entry.local_path(paths)
    if dest.is_file():
        print(f"{entry.id} is already here: {dest}", file=err)
        return 0
    size = entry.size
    fit = estimate(size, LIST_CONTEXT, None)
    if fit.fits is False:
        print(
            f"warning: {entry.id} needs about {human_bytes(fit.needed)}; "
            f"{human_bytes(fit.available or 0)} is free",
            file=err,
        )
    resumed = pending_download(dest)
    if resumed:
        print(f"resuming: {human_bytes(resumed)} already on disk", file=err)
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    reporter = _Reporter(err)
    try:
        path = pull(entry, paths, progress=reporter, cancel=cancel, offline_flag=offline_flag)
    finally:
        signal.signal(signal.SIGINT, previous)
        reporter.finish()
    print(f"downloaded and verified: {path}", file=err)
    return 0


class _Reporter:
    """A progress bar on a terminal; plain lines (every 10%) when the output is a file or a pipe."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.next_line = 0.0
        self.drawn = False

    def __call__(self, progress: Progress) -> None:
        if self.tty:
            width = 30
            filled = int(width * progress.fraction)
            bar = "█" * filled + "░" * (width - filled)
            deliberate(self.stream, f"\r{bar} {describe(progress)} ")
            self.stream.flush()
            self.drawn = True
        elif progress.fraction >= self.next_line or progress.done == progress.total:
            print(describe(progress), file=self.stream, flush=True)
            self.next_line = progress.fraction + 0.1

    def finish(self) -> None:
        if self.drawn:
            self.stream.write("\n")


def _add(paths: Paths, args: argparse.Namespace, out: TextIO) -> int:
    files = hub.gguf_files(args.repo, offline_flag=args.offline)
    if not files:
        raise ProblemError(f"{args.repo} has no .gguf files")
    if args.file:
        matches = [f for f in files if f.name == args.file]
        if not matches:
            raise ProblemError(f"{args.repo} has no file {args.file}; it has: {_names(files)}")
    else:
        pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(args.quant)}(?![A-Za-z0-9])", re.IGNORECASE)
        matches = [f for f in files if pattern.search(f.name)]
        if not matches:
            raise ProblemError(f"no {args.quant} file in {args.repo}; it has: {_names(files)}")
    split = [f for f in matches if SPLIT.search(f.name)]
    if split and len(split) == len(matches):
        raise ProblemError(
            f"{split[0].name} is split into {SPLIT.search(split[0].name).group(2).lstrip('0')} parts; "  # type: ignore[union-attr]
            "split GGUFs are not supported yet: pick a single-file quantisation with --quant or --file"
        )
    matches = [f for f in matches if not SPLIT.search(f.name)]
    if len(matches) > 1:
        raise ProblemError(f"{args.quant} matches several files, pick one with --file: {_names(matches)}")
    chosen = matches[0]
    remote = hub.remote_file(args.repo, chosen.name, offline_flag=args.offline)
    model_id = args.new_id or slugify(Path(chosen.name).stem)
    quant = args.quant if not args.file else ""
    values = {
        "id": model_id,
        "name": Path(chosen.name).stem,
        "repo": args.repo,
        "file": chosen.name,
        "revision": remote.commit or "main",
        "size": remote.size,
    }
    sha = chosen.sha256 or remote.sha256
    if sha:
        values["sha256"] = sha
    if quant:
        values["quant"] = quant.upper()
    path = add_user_entry(paths, values)
    print(
        f"added {model_id} ({human_bytes(remote.size)}) to {path}; "
        f"download it with `llm-tui models pull {model_id}`",
        file=out,
    )
    return 0


def _names(files: list[hub.RepoFile]) -> str:
    return ", ".join(f.name for f in files)


def _rm(paths: Paths, entry: CatalogEntry, yes: bool, out: TextIO) -> int:
    dest = entry.local_path(paths)
    parts = deletable_files(entry, paths)
    if not parts:
        raise ProblemError(f"{entry.id} is not on this machine")
    if not yes:
        if not sys.stdin.isatty():
            raise ProblemError("add --yes to delete without a question")
        answer = input(f"Delete {dest} ({human_bytes(sum(p.lstat().st_size for p in parts))})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept", file=out)
            return 0
    for part in parts:
        part.unlink()
    print(f"deleted {dest}", file=out)
    return 0


def _info(paths: Paths, entry: CatalogEntry, out: TextIO) -> int:
    for key in (
        "id",
        "name",
        "repo",
        "file",
        "revision",
        "size",
        "sha256",
        "params",
        "quant",
        "context_length",
        "license",
        "description",
    ):
        value = getattr(entry, key)
        if value:
            print(f"{key}: {value}", file=out)
    path = entry.local_path(paths)
    print(f"on disk: {model_status(entry, paths)} ({path})", file=out)
    if path.is_file():
        meta = gguf.read_metadata(path)
        made = provenance.read(meta)
        for label, value in made.rows() if made else ():
            print(terminal_safe(f"{label}: {value}", out), file=out)
        print(f"architecture: {gguf.architecture(meta)}", file=out)
        print(f"trained context: {gguf.trained_context(meta)}", file=out)
        for name, (token, text) in gguf.special_tokens(path).items():
            print(f"{name} token: {token} {text!r}", file=out)
        template = meta.get("tokenizer.chat_template")
        print("chat template:", file=out)
        shown = terminal_safe(template, out) if isinstance(template, str) else None
        print(shown or "(none: llm-tui falls back to ChatML)", file=out)
    return 0
