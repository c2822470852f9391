"""Small helpers for Pilot tests: wait for a condition instead of sleeping a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from textual.app import App
from textual.css.query import NoMatches
from textual.pilot import Pilot

from tests.char_tokenizer import CharTokenizer
from tui.core.chat.sampling import Sampling
from tui.core.engine.base import EngineBase, Request
from tui.core.engine.llama import Engine
from tui.core.engine.values import EngineInfo, LoadOptions, Piece, ReplyStats
from tui.core.prompt.template import ChatTemplate, fallback_template
from tui.ui.app import AppConfig, LlmTuiApp, create_app
from tui.ui.screens.chat import ChatScreen
from tui.ui.widgets.chat_input import ChatInput
from tui.ui.widgets.conversation import ReplyFooter


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


async def settled(pilot: Pilot[None], timeout: float = 60.0) -> None:
    """Wait for the state a snapshot pictures, not for time: no worker running, every message
    handled, and two frames in a row the same (a layout that still settles under load, a render
    that has not landed yet, both show as a changing frame). Cursors stop blinking first: a
    blinking cursor is a clock, and a starved machine catches it in either phase."""
    app = pilot.app
    for box in app.screen.query("TextArea, Input"):
        box.cursor_blink = False  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        busy = any(not worker.is_finished for worker in app.workers)
        frame = app.export_screenshot()
        if not busy and frame == previous:
            return
        if time.monotonic() > deadline:
            raise AssertionError("the screen did not settle in time")
        previous = frame


async def send(pilot: Pilot[None], chat: ChatScreen, text: str, replies: int) -> None:
    """Type ``text``, send it, and wait until ``replies`` replies have finished on the screen."""
    box = chat.query_one(ChatInput)
    box.focus()
    box.insert(text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: len(chat.query(ReplyFooter)) == replies)


@dataclass
class FakeEngine(EngineBase):
    """A stand-in for UI-only behaviour (loading states, errors); never the only test of a feature.

    The shared engine base does the rest (templates, prompts, the context check), so the UI tests
    exercise the same code the real engines run; only the streaming is made up.
    """

    words: Sequence[str] = ("Hello", " from", " a", " fake", " model.")
    info: EngineInfo = EngineInfo(
        path=Path("fake.gguf"),
        name="Fake",
        architecture="fake",
        n_ctx=512,
        n_ctx_train=512,
        n_threads=1,
        n_layers=1,
        gpu_offload_supported=False,
        gpu_layers=0,
        template_name="fake",
        load_seconds=0.0,
    )

    template: ChatTemplate = field(default_factory=fallback_template)
    """ChatML by default; a reasoning template for tests of thinking."""
    shown_seed: int | None = 1
    """The seed the stats report: one fixed value, so snapshots do not show a random seed (a
    regenerated reply draws one); None: the seed the request had (the engine contract)."""

    def __post_init__(self) -> None:
        EngineBase.__init__(self)
        self.own_template = self.template
        self.vocab = CharTokenizer()  # one token per character: real spans and parts, no model needed

    def _stream(self, request: Request) -> Generator[Piece | ReplyStats, None, None]:
        words = self.words[: request.tokens]
        for word in words:
            yield Piece(0, word)
            if request.cancel.is_set():
                break
        stop = "end_of_turn" if len(words) == len(self.words) else request.stop
        seed = request.seed if self.shown_seed is None else self.shown_seed
        yield ReplyStats(len(request.prompt), 0, len(words), 0.01, 0.01, stop, seed)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


async def click(pilot: Pilot[None], selector: str, timeout: float = 10.0) -> None:
    """Click once the widget is laid out: a dialog that was just pushed may not be yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if await pilot.click(selector):
                return
        except NoMatches:
            pass  # composed a moment later under load
        if time.monotonic() > deadline:
            raise AssertionError(f"could not click {selector}")
        await pilot.pause(0.05)


def real_app(model_path: Path, sampling: Sampling, n_ctx: int = 1024) -> LlmTuiApp:
    """The app on the real SmolLM2, with fixed sampling settings."""
    return create_app(
        AppConfig(sampling=sampling, engine_factory=lambda: Engine(model_path, LoadOptions(n_ctx=n_ctx)))
    )


async def ready(pilot: Pilot[None], app: App[None]) -> ChatScreen:
    """The chat screen once its model has loaded: the start of most app tests."""
    chat = chat_of(app)
    await wait_until(pilot, lambda: chat.chat is not None)
    return chat


async def reopen_first_session(pilot: Pilot[None], app: App[None], chat: ChatScreen) -> None:
    """Start session #2, then reopen session #1 from the saved sessions (f5, o) as session #3."""
    await pilot.press("ctrl+n")
    await wait_until(pilot, lambda: chat.chat is not None and chat.chat.session.number == 2)
    await pilot.press("f5")
    await wait_until(pilot, lambda: app.screen.__class__.__name__ == "SessionsView")
    await pilot.pause()
    await pilot.press("o")
    await wait_until(pilot, lambda: chat.chat is not None and chat.chat.session.number == 3)


def chat_of(app: App[None]) -> ChatScreen:
    """The chat screen, under whatever is pushed on top of it."""
    screen = app.screen_stack[1]
    assert isinstance(screen, ChatScreen)
    return screen
