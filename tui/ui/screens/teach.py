"""Teach the current persona into a copy of the model's weights, watch it learn, then compare.

The set (made by the model itself, or the file the user edited), what it will cost, then a live
loss line and the time left; afterwards the three answers side by side: the bare model, the model
with the persona's hidden system message, the taught model with none.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, ProgressBar, Sparkline, Static

from tui.core.atomic import write_text_atomic
from tui.core.chat.experiments import IDENTITY_QUESTION
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import ChatEngine
from tui.core.engine.compute_thread import on_compute_thread
from tui.core.personas.format import Persona
from tui.core.problems import ProblemError
from tui.core.teach import EPOCHS, LEARNING_RATE
from tui.core.teach import plan as costs
from tui.core.teach import run as teaching
from tui.core.teach.teaching_set import (
    Conversation,
    make_set,
    read_set,
    set_text,
    token_stream,
)
from tui.paths import Paths
from tui.ui.actions import bindings
from tui.ui.screens.experiments import AnswerColumn, AnswerReady

PREVIEW = 4
PROBE_SAMPLING = Sampling(temperature=0.0, max_tokens=48, seed=42)


@dataclass
class SetReady(Message):
    conversations: list[Conversation]
    file: Path
    stream: list[int]
    estimate: costs.Estimate
    made: bool
    """True: made now by the model; False: read from the file (the user's edits kept)."""


@dataclass
class Said(Message):
    text: str
    severity: str = "information"


@dataclass
class Progressed(Message):
    progress: teaching.Progress


@dataclass
class Finished(Message):
    result: teaching.Result | None
    error: str | None = None


class TeachScreen(Screen[None]):
    SUB_TITLE = "teach a persona into the weights"
    BINDINGS = bindings("teach")

    def __init__(
        self,
        engine: ChatEngine,
        base_spec: str,
        base_id: str,
        base_label: str,
        persona: Persona,
        paths: Paths,
    ) -> None:
        """``base_spec``: how to load the model again (catalog id or path); ``base_id``: for names."""
        super().__init__()
        self.engine, self.base_spec, self.base_id, self.base_label = engine, base_spec, base_id, base_label
        self.persona, self.paths = persona, paths
        self.ready: SetReady | None = None
        self.cancel = threading.Event()
        self.running = False
        self.result: teaching.Result | None = None

    @property
    def set_file(self) -> Path:
        return self.paths.data / "teaching" / f"{self.persona.id}.jsonl"

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="teach-body"):
            yield Static(
                "Two ways to give a model an identity: a hidden system message (every persona), or its "
                "weights. This teaches the persona into a copy of the model, on this machine; afterwards "
                "the copy says who it is with no system message at all.",
                id="teach-intro",
            )
            yield Static("Making the teaching set…", id="teach-set")
            yield Static("", id="teach-estimate")
            yield ProgressBar(id="teach-progress", show_eta=False)
            yield Sparkline([], id="teach-loss")
            yield Static("", id="teach-status")
            yield Horizontal(id="answers")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False
        self.query_one(Sparkline).display = False
        self._prepare()

    def on_unmount(self) -> None:
        self.cancel.set()  # leaving (or quitting) stops a run: nothing half-made is registered

    # The set -------------------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="teach-set")
    def _prepare(self) -> None:
        def said(what: str, done: int, total: int) -> None:
            label = {"identity": "asking the model as the persona", "retention": "asking it as itself"}[what]
            self.post_message(Said(f"Making the teaching set: {label}, {done}/{total}…"))

        try:
            made = not self.set_file.is_file()
            if made:
                conversations = on_compute_thread(
                    make_set, self.engine, self.persona, progress=said, cancel=self.cancel
                )
                if self.cancel.is_set():
                    return  # closed while making it: a part of a set is not kept as the set
                write_text_atomic(self.set_file, set_text(conversations))
            else:
                conversations = read_set(self.set_file)
            stream = on_compute_thread(token_stream, self.engine, conversations)
            shape = costs.Shape.of(self.engine.info.path)
            estimate = costs.estimate(shape, 256, "Q8_0", teaching.taught_folder(self.paths))
        except (ProblemError, OSError) as exc:
            self.post_message(Said(f"No teaching set: {exc}", "error"))
            return
        self.post_message(SetReady(conversations, self.set_file, stream, estimate, made))

    def on_set_ready(self, message: SetReady) -> None:
        self.ready = message
        conversations = message.conversations
        kinds: dict[str, int] = {}
        for conversation in conversations:
            kinds[conversation.kind] = kinds.get(conversation.kind, 0) + 1
        counted = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        origin = "made now by the model" if message.made else "read from the file (your edits are kept)"
        text = Text()
        text.append(f"Teaching set: {len(conversations)} conversations ({counted}), {origin}\n", "bold")
        text.append(f"{message.file}  (one JSON conversation per line: edit it, then reopen this)\n", "dim")
        for conversation in conversations[:PREVIEW]:
            user = next((m.content for m in conversation.messages if m.role == "user"), "")
            reply = next((m.content for m in conversation.messages if m.role == "assistant"), "")
            text.append(f"  {conversation.kind:<9} you: {user[:60]}\n", "")
            text.append(f"            model: {reply[:70]}\n", "dim")
        self.query_one("#teach-set", Static).update(text)
        estimate = message.estimate
        windows = costs.windows(message.stream, 256)
        refusal = estimate.refusal()
        lines = (
            f"{len(message.stream):,} tokens in {len(windows)} windows of 256, {EPOCHS} epoch(s). "
            f"Needs about {costs.gib(estimate.memory)} of memory and {costs.gib(estimate.disk)} of disk. "
        )
        lines += refusal or "Press enter to start; escape stops it and keeps nothing."
        self.query_one("#teach-estimate", Static).update(Text(lines, "red" if refusal else ""))

    def on_said(self, message: Said) -> None:
        if message.severity == "error":
            self.notify(message.text, severity="error", markup=False)
        self.query_one("#teach-status", Static).update(Text(message.text))

    # Teaching ------------------------------------------------------------------------------------

    def action_start(self) -> None:
        ready = self.ready
        if ready is None or self.running or self.result is not None:
            return
        refusal = ready.estimate.refusal()
        if refusal:
            self.notify(refusal, severity="error", markup=False)
            return
        name = self._free_name()
        job = teaching.job_for(
            self.persona,
            self.engine.info.path,
            self.base_label.removesuffix(" (embedded)"),
            self.base_spec,
            name,
            ready.conversations,
            ready.stream,
            256,
            EPOCHS,
            LEARNING_RATE,
        )
        self.running = True
        self.query_one(ProgressBar).display = True
        self.query_one(Sparkline).display = True
        self._teach(job)

    def _free_name(self) -> str:
        base = f"{self.persona.id}-{self.base_id}"[:60].rstrip("-")
        name, number = base, 2
        while teaching.target_of(self.paths, name).exists():
            name, number = f"{base}-{number}", number + 1
        return name

    @work(thread=True, exit_on_error=False, group="teach")
    def _teach(self, job: teaching.Job) -> None:
        try:
            result = teaching.run(job, self.paths, self._progressed, self.cancel)
        except ProblemError as exc:
            self.post_message(Finished(None, str(exc)))
            return
        self.post_message(Finished(result))

    def _progressed(self, progress: teaching.Progress) -> None:
        """From the worker: a copy, the run goes on changing its own."""
        self.post_message(Progressed(replace(progress, losses=list(progress.losses))))

    def on_progressed(self, message: Progressed) -> None:
        progress = message.progress
        bar = self.query_one(ProgressBar)
        status = self.query_one("#teach-status", Static)
        if progress.stage == "dequantize":
            status.update("Dequantizing the model to F32 (quantized weights cannot be trained)…")
        elif progress.stage in ("train", "epoch") and progress.steps:
            bar.update(
                total=progress.epochs * progress.steps,
                progress=(progress.epoch - 1) * progress.steps + progress.step,
            )
            self.query_one(Sparkline).data = list(progress.losses)
            eta = f", about {progress.eta_seconds:.0f} s left" if progress.eta_seconds is not None else ""
            loss = f"{progress.loss:.3f}" if progress.loss is not None else "?"
            status.update(
                f"Epoch {progress.epoch}/{progress.epochs}, step {progress.step}/{progress.steps}: "
                f"loss {loss}, {progress.tokens_per_second:.0f} tokens/s{eta}"
            )
        elif progress.stage == "save":
            status.update("Saving: the trained weights into a copy of the model, then Q8_0…")

    def on_finished(self, message: Finished) -> None:
        self.running = False
        status = self.query_one("#teach-status", Static)
        if message.result is None:
            status.update(Text(message.error or "stopped", "red"))
            self.notify(message.error or "Teaching stopped.", severity="warning", markup=False)
            return
        self.result = result = message.result
        status.update(
            Text(
                f"Taught: {result.path.stem} ({result.path}). Final loss {result.train_loss:.3f}, "
                f"{result.tokens_per_second:.0f} tokens/s. Press p to compare the three; it is in the model "
                "browser (f4) too.",
                "green",
            )
        )
        self.action_compare()

    # Seeing it -------------------------------------------------------------------------------------

    def action_compare(self) -> None:
        if self.result is None:
            self.notify("Teach first (enter).", severity="warning")
            return
        self.query_one("#answers").remove_children()
        self._compare(self.result.path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="teach-probe")
    def _compare(self, path: Path) -> None:
        from tui.core.engine.local import open_local
        from tui.core.engine.values import LoadOptions
        from tui.core.personas.store import PersonaStore
        from tui.core.teach.compare import answers, three_way

        plan = three_way(path, PersonaStore(self.paths).load())
        if plan is None:
            return

        def ask_all() -> None:
            taught = open_local(path.stem, LoadOptions(n_ctx=1024))  # by its id: named as listed
            try:
                for answer in answers(taught, self.engine, plan, IDENTITY_QUESTION, PROBE_SAMPLING):
                    self.post_message(AnswerReady(answer))
            finally:
                taught.close()

        on_compute_thread(ask_all)

    def on_answer_ready(self, message: AnswerReady) -> None:
        self.query_one("#answers").mount(AnswerColumn(message.answer))

    def action_close(self) -> None:
        if self.running:
            self.cancel.set()
            self.notify("Stopping: nothing will be saved.")
            return
        self.app.pop_screen()
