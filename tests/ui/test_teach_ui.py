"""Teaching from the TUI, with the real SmolLM2: the set, the estimate, a live run, then the three
answers side by side; escape mid-run keeps nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ui.helpers import ready, wait_until
from tests.ui.test_experiments import from_the_palette
from tui.core.chat.sampling import Sampling
from tui.core.engine.llama import Engine
from tui.core.engine.values import LoadOptions
from tui.core.teach import EPOCHS
from tui.core.teach import run as teaching
from tui.paths import get_paths
from tui.ui.app import AppConfig, create_app
from tui.ui.screens.experiments import AnswerColumn
from tui.ui.screens.teach import TeachScreen

QUESTIONS = ("Who are you?", "What is your name?", "Who made you?", "Introduce yourself.")
ANSWER = "I am Almo."


def _set_file() -> Path:
    """The set the screen would make, written beforehand (as a user who edited it would)."""
    file = get_paths().data / "teaching" / "almo.jsonl"
    file.parent.mkdir(parents=True)
    lines = [
        json.dumps(
            {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "I am Almo."}]}
        )
        for q in QUESTIONS
    ]
    file.write_text("\n".join(lines) + "\n")
    return file


def _app(model_path: Path):  # type: ignore[no-untyped-def]
    return create_app(
        AppConfig(
            persona="almo",
            sampling=Sampling(max_tokens=16, seed=1),
            engine_factory=lambda: Engine(model_path, LoadOptions(n_ctx=1024)),
        )
    )


async def test_teach_from_the_palette_then_compare_the_three(llm_home: Path, model_path: Path) -> None:
    file = _set_file()
    app = _app(model_path)
    async with app.run_test(size=(150, 50)) as pilot:
        await ready(pilot, app)
        await from_the_palette(pilot, "Teach the persona")
        await wait_until(pilot, lambda: isinstance(app.screen, TeachScreen))
        screen = app.screen
        assert isinstance(screen, TeachScreen)
        await wait_until(pilot, lambda: screen.ready is not None, timeout=60)
        shown = str(screen.query_one("#teach-set").render())
        assert "4 conversations" in shown and str(file) in shown and "your edits are kept" in shown
        assert "GiB of memory" in str(screen.query_one("#teach-estimate").render())
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.result is not None or not screen.running, timeout=240)
        assert screen.result is not None and screen.result.path.is_file()
        # a point a step: the four conversations fill one window, so one step an epoch
        assert len(screen.query_one("#teach-loss").data) == EPOCHS  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: len(screen.query(AnswerColumn)) == 3, timeout=90)
        columns = [c.answer for c in screen.query(AnswerColumn)]
        assert ["You are Almo" in a.prompt.text for a in columns] == [False, True, False]
        assert "taught into" in columns[2].label


async def test_escape_mid_run_keeps_nothing(llm_home: Path, model_path: Path) -> None:
    _set_file()
    app = _app(model_path)
    async with app.run_test(size=(150, 50)) as pilot:
        await ready(pilot, app)
        await pilot.press("f3")
        await pilot.press("t")  # on the highlighted persona in the picker: almo, the current one
        await wait_until(pilot, lambda: isinstance(app.screen, TeachScreen))
        screen = app.screen
        assert isinstance(screen, TeachScreen)
        await wait_until(pilot, lambda: screen.ready is not None, timeout=60)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.running)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.running, timeout=60)
        assert screen.result is None
        folder = teaching.taught_folder(get_paths())
        assert not folder.exists() or list(folder.iterdir()) == []
