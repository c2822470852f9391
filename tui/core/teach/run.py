"""Run a teaching job in a child process, report its progress, and register the result or nothing.

The child (`tui.core.teach.child`) works in a hidden folder beside the taught models; only when it
has finished and the result checks out is the file renamed to its final name. Cancelled, killed,
crashed or out of disk: the folder goes, and no model is registered.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.core.problems import Problem, ProblemError
from tui.core.teach import provenance
from tui.core.teach.plan import split_of, windows
from tui.paths import Paths

if TYPE_CHECKING:
    from tui.core.personas.format import Persona
    from tui.core.teach.teaching_set import Conversation

TAUGHT_FOLDER = "taught"
WORK_PREFIX = ".teaching-"
LOG_TAIL = 4000
"""Characters of the child's log quoted when it fails."""
LINE_LIMIT = 1 << 20
"""A progress line longer than this is not one the child wrote."""
STOP_SECONDS = 5.0


def taught_folder(paths: Paths) -> Path:
    return paths.models / TAUGHT_FOLDER


@dataclass(frozen=True)
class Job:
    base: Path
    name: str
    """The taught model's id and file stem."""
    stream: list[int]
    n_ctx: int
    epochs: int
    learning_rate: float
    threads: int
    quant: str
    provenance: provenance.Provenance
    trained: str | None = None
    """Which tensors learn: a regular expression over their names (None: every one)."""


def job_for(
    persona: Persona,
    base: Path,
    base_name: str,
    base_model: str,
    name: str,
    conversations: Sequence[Conversation],
    stream: list[int],
    n_ctx: int,
    epochs: int,
    learning_rate: float,
    threads: int | None = None,
) -> Job:
    """The one way a teaching run is described (the CLI and the TUI), its provenance included:
    what was taught, into which file, from which set, how."""
    from tui.core.engine.hardware import physical_cores
    from tui.core.teach.teaching_set import identity_name, set_sha256

    made = provenance.Provenance(
        persona=persona.id,
        persona_name=identity_name(persona),
        base_name=base_name,
        base_model=base_model,
        base_file=base.name,
        base_sha256=provenance.file_sha256(base),
        set_sha256=set_sha256(conversations),
        conversations=len(conversations),
        epochs=epochs,
        learning_rate=learning_rate,
        n_ctx=n_ctx,
    )
    return Job(base, name, stream, n_ctx, epochs, learning_rate, threads or physical_cores(), "Q8_0", made)


@dataclass
class Progress:
    stage: str
    """``dequantize``, ``train``, ``epoch``, ``save`` or ``done``."""
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps: int = 0
    loss: float | None = None
    eval_loss: float | None = None
    tokens_per_second: float = 0.0
    eta_seconds: float | None = None
    peak_rss: int = 0
    losses: list[float] = field(default_factory=list)
    """Every training step's running loss so far (for the sparkline)."""


@dataclass(frozen=True)
class Result:
    path: Path
    train_loss: float
    eval_loss: float | None
    peak_rss: int
    train_seconds: float
    trained_tokens: int

    @property
    def tokens_per_second(self) -> float:
        return self.trained_tokens / self.train_seconds if self.train_seconds > 0 else 0.0


class TeachingStopped(ProblemError):
    """Cancelled by the user: nothing was registered."""


def target_of(paths: Paths, name: str) -> Path:
    return taught_folder(paths) / f"{name}.gguf"


def run(
    job: Job,
    paths: Paths,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> Result:
    """Teach, then move the result to ``models/taught/NAME.gguf``; `ProblemError` on any failure
    (`TeachingStopped` when ``cancel`` was set), with the work folder removed."""
    target = target_of(paths, job.name)
    if target.exists():
        raise ProblemError(
            Problem(str(target), "already exists", hint="choose another --name, or `llm-tui models rm` it")
        )
    folder = taught_folder(paths)
    folder.mkdir(parents=True, exist_ok=True)
    for left in leftovers(paths):
        shutil.rmtree(left, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=folder))
    (work / OWNER).write_text(str(os.getpid()), encoding="ascii")
    try:
        done = _supervise(job, work, on_progress or (lambda _p: None), cancel or threading.Event())
        made = Path(done["path"])
        if made.parent != work or provenance.of_file(made) is None:
            raise ProblemError("the teaching run wrote no model with its provenance")
        try:
            os.link(made, target)  # never over a file that appeared meanwhile
        except FileExistsError as exc:
            raise ProblemError(Problem(str(target), "already exists")) from exc
        return Result(
            target,
            float(done["train_loss"]),
            done.get("eval_loss"),
            int(done["peak_rss"]),
            float(done["train_seconds"]),
            int(done["trained_tokens"]),
        )
    except OSError as exc:
        raise ProblemError(f"could not save the taught model: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _supervise(
    job: Job, work: Path, on_progress: Callable[[Progress], None], cancel: threading.Event
) -> dict[str, Any]:
    chunks = windows(job.stream, job.n_ctx)
    spec = {
        "base": str(job.base),
        "work": str(work),
        "n_ctx": job.n_ctx,
        "threads": job.threads,
        "windows": chunks,
        "split": split_of(len(chunks)),
        "epochs": job.epochs,
        "lr": job.learning_rate,
        "quant": job.quant,
        "metadata": job.provenance.metadata(),
        "trained": job.trained,
        "parent": os.getpid(),
    }
    job_file = work / "job.json"
    job_file.write_text(json.dumps(spec), encoding="utf-8")
    log = (work / "log.txt").open("wb")
    child = subprocess.Popen(
        [sys.executable, "-m", "tui.core.teach.child", str(job_file)],
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "GGML_NO_BACKTRACE": "1"},  # an abort is one line, not a debugger session
        start_new_session=True,  # ctrl+c in the terminal reaches the app, which stops the child
    )
    progress = Progress("start")
    done: dict[str, Any] | None = None
    started = time.monotonic()
    try:
        assert child.stdout is not None
        for event in _events(child, cancel):
            done = event if event.get("stage") == "done" else done
            _advance(progress, event, started)
            on_progress(progress)
        if cancel.is_set():
            raise TeachingStopped("teaching stopped: nothing was saved")
    finally:
        _stop(child)
        log.close()
    if child.returncode != 0 or done is None:
        raise ProblemError(_failure(child.returncode, work / "log.txt"))
    return done


def _events(child: subprocess.Popen[bytes], cancel: threading.Event) -> Iterator[dict[str, Any]]:
    """The child's progress lines, until it ends or ``cancel`` is set (checked every 0.2 s)."""
    assert child.stdout is not None
    pipe = child.stdout
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(pipe, selectors.EVENT_READ)
        while not cancel.is_set():
            if not selector.select(0.2):
                continue
            chunk = os.read(pipe.fileno(), 65536)
            if not chunk:
                return
            buffer += chunk
            if len(buffer) > LINE_LIMIT and b"\n" not in buffer:
                return
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                with contextlib.suppress(ValueError):
                    event = json.loads(line)
                    if isinstance(event, dict):
                        yield event


def _advance(progress: Progress, event: dict[str, Any], started: float) -> None:
    progress.stage = str(event.get("stage", progress.stage))
    for key in ("epoch", "epochs", "step", "steps"):
        if isinstance(event.get(key), int):
            setattr(progress, key, event[key])
    if progress.stage == "train" and isinstance(event.get("loss"), (int, float)):
        progress.loss = float(event["loss"])
        progress.losses.append(progress.loss)
        progress.tokens_per_second = float(event.get("tokens_per_second") or 0.0)
        total = progress.epochs * progress.steps
        finished = (progress.epoch - 1) * progress.steps + progress.step
        elapsed = time.monotonic() - started
        progress.eta_seconds = elapsed / finished * (total - finished) if finished else None
    if isinstance(event.get("train_loss"), (int, float)):
        progress.loss = float(event["train_loss"])
    if isinstance(event.get("eval_loss"), (int, float)):
        progress.eval_loss = float(event["eval_loss"])
    if isinstance(event.get("peak_rss"), int):
        progress.peak_rss = max(progress.peak_rss, event["peak_rss"])


def _stop(child: subprocess.Popen[bytes]) -> None:
    """End the child now if it still runs: SIGTERM, then SIGKILL (llama.cpp does not look up)."""
    if child.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)
    try:
        child.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def _failure(code: int | None, log: Path) -> str:
    """One line: how the child ended, and the last thing llama.cpp said."""
    try:
        tail = log.read_bytes()[-LOG_TAIL:].decode("utf-8", "replace")
    except OSError:
        tail = ""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    said = next((line for line in reversed(lines) if "GGML_ASSERT" in line or "error" in line.lower()), "")
    said = said or (lines[-1] if lines else "")
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        how = (
            "llama.cpp aborted the training"
            if name == "SIGABRT"
            else f"the teaching process was killed ({name})"
        )
    else:
        how = f"the teaching process failed (exit {code})"
    return f"{how}; nothing was saved" + (f"; its last words: {said[:300]}" if said else "")


OWNER = "owner.pid"


def leftovers(paths: Paths) -> list[Path]:
    """Work folders of runs whose app is gone (killed before it could clean up): safe to remove.
    A run of another llm-tui still going keeps its folder."""
    folder = taught_folder(paths)
    found = []
    for work in sorted(folder.glob(f"{WORK_PREFIX}*")) if folder.is_dir() else []:
        try:
            owner = int((work / OWNER).read_text(encoding="ascii"))
            os.kill(owner, 0)
        except ProcessLookupError:
            found.append(work)
        except PermissionError:
            continue  # alive, another user's
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                if time.time() - work.stat().st_mtime > 60:  # not one being made this instant
                    found.append(work)
    return found
