"""Two experiments from the command palette: the identity probe and the memory test.

Answers appear side by side, each with the exact hidden prompt it was given: the model, question
and seed are the same, only the prompt differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from tui.core.chat.experiments import IDENTITY_QUESTION, Answer, identity_probe, memory_test
from tui.core.chat.sampling import Sampling
from tui.core.chat.session import ChatEngine
from tui.core.chat.settings import SessionSettings
from tui.core.engine.compute_thread import on_compute_thread
from tui.ui.actions import bindings
from tui.ui.widgets.inspector import render_prompt


@dataclass
class AnswerReady(Message):
    answer: Answer


class AnswerColumn(VerticalScroll):
    def __init__(self, answer: Answer) -> None:
        super().__init__(classes="answer")
        self.answer = answer

    def compose(self) -> ComposeResult:
        a = self.answer
        yield Static(Text(a.label, "bold"))
        yield Static(Text(f"system: {a.system or 'none (the template decides)'}", "magenta"))
        yield Static(Text(a.text or "(no answer)"), classes="answer-text")
        yield Static(Text(f"seed {a.seed} · the exact prompt ({len(a.prompt)} tokens):", "dim"))
        yield Static(render_prompt(a.prompt, None, tokens=False, ids=False), classes="answer-prompt")


class ExperimentScreen(Screen[None]):
    BINDINGS = bindings("experiments")

    def __init__(self, engine: ChatEngine, sampling: Sampling) -> None:
        super().__init__()
        self.engine = engine
        self.sampling = sampling

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="experiment-intro")
        yield Horizontal(id="answers")
        yield Footer()

    def on_answer_ready(self, message: AnswerReady) -> None:
        self.query_one("#answers").mount(AnswerColumn(message.answer))

    def action_close(self) -> None:
        self.app.pop_screen()


class ProbeScreen(ExperimentScreen):
    SUB_TITLE = "identity probe"

    def __init__(
        self, engine: ChatEngine, sampling: Sampling, subjects: Sequence[tuple[str, SessionSettings]]
    ) -> None:
        """``subjects`` from `probe_subjects`, as `llm-tui probe` gets them."""
        super().__init__(engine, sampling)
        self.subjects = subjects

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "The same question, model and seed, each in a fresh session: without a system message the model "
            "says whatever is most likely from its training; with one, it becomes what it is told.",
            id="experiment-intro",
        )
        yield Input(IDENTITY_QUESTION, id="probe-question")
        yield Horizontal(id="answers")
        yield Footer()

    def on_mount(self) -> None:
        self._run(IDENTITY_QUESTION)

    @on(Input.Submitted, "#probe-question")
    async def _ask(self, event: Input.Submitted) -> None:
        await self.query_one("#answers").remove_children()
        self._run(event.value.strip() or IDENTITY_QUESTION)

    @work(thread=True, exclusive=True, exit_on_error=False, group="probe")
    def _run(self, question: str) -> None:
        def ask_all() -> None:
            for answer in identity_probe(self.engine, question, self.subjects, self.sampling):
                self.post_message(AnswerReady(answer))

        on_compute_thread(ask_all)


class MemoryTestScreen(ExperimentScreen):
    SUB_TITLE = "memory test"

    def __init__(self, engine: ChatEngine, settings: SessionSettings) -> None:
        super().__init__(engine, settings.sampling)
        self.settings = settings

    def on_mount(self) -> None:
        self.query_one("#experiment-intro", Static).update(
            "Session 1 tells the model a fact. Session 2 asks for it. Compare the two prompts: nothing of "
            "session 1 is in session 2's, so the model cannot know (a right guess would be luck)."
        )
        self._run()

    @work(thread=True, exit_on_error=False, group="memory")
    def _run(self) -> None:
        told, asked = on_compute_thread(memory_test, self.engine, self.settings)
        self.post_message(AnswerReady(told))
        self.post_message(AnswerReady(asked))
