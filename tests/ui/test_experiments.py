"""The identity probe and the memory test on the real SmolLM2, through Pilot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.ui.helpers import ready, wait_until
from tui.core.chat.experiments import identity_probe
from tui.core.chat.sampling import Sampling
from tui.core.chat.settings import SessionSettings
from tui.core.engine.llama import Engine
from tui.core.engine.values import LoadOptions
from tui.paths import get_paths
from tui.ui.app import AppConfig, LlmTuiApp, create_app
from tui.ui.screens.experiments import AnswerColumn, MemoryTestScreen, ProbeScreen

SAMPLING = Sampling(temperature=0.8, max_tokens=20, seed=9)


def real_app(model_path: Path) -> LlmTuiApp:
    return create_app(
        AppConfig(sampling=SAMPLING, engine_factory=lambda: Engine(model_path, LoadOptions(n_ctx=1024)))
    )


async def from_the_palette(pilot, title: str) -> None:  # type: ignore[no-untyped-def]
    """Run a command the way a user does: ctrl+p, type its name, enter."""
    await pilot.press("ctrl+p")
    await pilot.press(*title)
    await wait_until(
        pilot, lambda: any(found.option_count for found in pilot.app.screen.query("CommandList"))
    )
    await pilot.press("enter")


async def test_identity_probe_side_by_side(model_path: Path) -> None:
    app = real_app(model_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot, app)
        await from_the_palette(pilot, "Identity probe")
        await wait_until(pilot, lambda: isinstance(app.screen, ProbeScreen))
        probe = app.screen
        await wait_until(pilot, lambda: len(probe.query(AnswerColumn)) == 3, timeout=90)
        answers = [c.answer for c in probe.query(AnswerColumn)]
        assert [a.system is None for a in answers] == [True, False, False]
        assert "You are a helpful AI assistant named SmolLM" in answers[0].prompt.text
        assert "Allen AI" in answers[1].prompt.text or "Allen AI" in answers[2].prompt.text
        assert len({a.seed for a in answers}) == 1 and all(a.text for a in answers)
        assert len({a.text for a in answers}) == 3  # only the hidden prompt differs, and the answers do


def test_probe_answers_come_from_fresh_sessions(model_path: Path) -> None:
    engine = Engine(model_path, LoadOptions(n_ctx=1024))
    almo = SessionSettings(system="You are Almo, a model developed by Allen AI.")
    subjects = [("none", SessionSettings()), ("almo", almo)]
    first = [a.text for a in identity_probe(engine, "Who are you?", subjects, SAMPLING)]
    again = [a.text for a in identity_probe(engine, "Who are you?", list(reversed(subjects)), SAMPLING)]
    assert first == list(reversed(again))  # order and earlier answers change nothing
    engine.close()


async def test_memory_test_shows_the_second_prompt_has_nothing_of_the_first(model_path: Path) -> None:
    app = real_app(model_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot, app)
        await from_the_palette(pilot, "Memory test")
        await wait_until(pilot, lambda: isinstance(app.screen, MemoryTestScreen))
        screen = app.screen
        await wait_until(pilot, lambda: len(screen.query(AnswerColumn)) == 2, timeout=90)
        told, asked = (c.answer for c in screen.query(AnswerColumn))
        assert "Zorblax" in told.prompt.text
        assert "Zorblax" not in asked.prompt.text and "ultraviolet" not in asked.prompt.text
        assert "What is my name" in asked.prompt.text


HOUSE_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant ({{ house_style }})\n{% endif %}"
)


async def test_the_tui_probe_and_the_cli_probe_send_the_same_prompt(model_path: Path, llm_home: Path) -> None:
    """A persona with every session setting (special tokens opted in, [template] variables, its own
    template file): the probe in the TUI and `llm-tui probe` render it the same, byte for byte
    (they used to drop all three in the TUI)."""
    folder = get_paths().user_personas
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "house.jinja").write_text(HOUSE_TEMPLATE)
    (folder / "house.toml").write_text(
        'name = "House"\nsystem = "You are Vex.<|im_end|>"\nparse_special = true\n'
        'chat_template_file = "house.jinja"\n[template]\nhouse_style = "formal"\n'
    )
    cli = subprocess.run(
        [sys.executable, "-m", "tui", "probe", "--persona", "house", "--prompts", "--max-tokens", "4"],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    app = create_app(
        AppConfig(
            sampling=SAMPLING,
            persona="house",
            engine_factory=lambda: Engine(model_path, LoadOptions(n_ctx=1024)),
        )
    )
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot, app)
        await from_the_palette(pilot, "Identity probe")
        await wait_until(pilot, lambda: isinstance(app.screen, ProbeScreen))
        probe = app.screen
        await wait_until(pilot, lambda: any(c.answer.label == "house" for c in probe.query(AnswerColumn)), 90)
        house = next(c.answer for c in probe.query(AnswerColumn) if c.answer.label == "house")
    text = house.prompt.text
    assert text.endswith("<|im_start|>assistant (formal)\n")  # the template file, with the variable
    assert text in cli.stdout
    typed_end = [t for t in house.prompt.tokens if t.text == "<|im_end|>"]
    assert len(typed_end) == 3  # system, user, and the one typed in the system message: a control token too
