"""The model browser: the catalog with sizes and fit, downloads with progress, switch, delete."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, ProgressBar, Static

from tui.core.engine.values import DEFAULT_CONTEXT, EngineInfo
from tui.core.models import hub
from tui.core.models.catalog import CatalogEntry, load_catalog
from tui.core.models.downloads import DownloadCancelled, DownloadError, Progress, describe, human_bytes
from tui.core.models.fit import estimate
from tui.core.models.local import MODEL_STATUS_EMBEDDED, deletable_files, model_status, pull
from tui.core.problems import ProblemError
from tui.core.settings.state import SettingValue, load_state, save_state
from tui.paths import get_paths
from tui.ui.actions import bindings
from tui.ui.dialogs.common import Confirm
from tui.ui.dialogs.model_details import ModelDetails, ModelSettings
from tui.ui.messages import DownloadFinished, DownloadProgress

if TYPE_CHECKING:
    from tui.ui.hosts import AppHost

COLUMNS = ("", "Name", "Params", "Quant", "Size", "Fits", "On disk")


class DownloadRow(Vertical):
    def __init__(self, model_id: str) -> None:
        super().__init__(id=f"download-{model_id}", classes="download")
        self.model_id = model_id

    def compose(self) -> ComposeResult:
        yield Label(f"{self.model_id}: starting…", classes="download-label")
        yield ProgressBar(total=100, show_eta=False)

    def show(self, progress: Progress) -> None:
        self.query_one(Label).update(f"{self.model_id}: {describe(progress)}")
        self.query_one(ProgressBar).update(total=progress.total, progress=progress.done)


class ModelBrowser(Screen[str | None]):
    """Installed once on the app, so downloads carry on while it is closed."""

    SUB_TITLE = "models"

    BINDINGS = bindings("models")

    def __init__(self) -> None:
        super().__init__()
        self.paths = get_paths()
        self.entries: dict[str, CatalogEntry] = {}
        self.cancels: dict[str, threading.Event] = {}

    @property
    def llm_app(self) -> AppHost:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="models-problems")
        table: DataTable[str] = DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table
        yield Vertical(id="downloads")
        yield Static(
            "Fits: the file plus its KV cache at the model's context vs free memory (* estimated until "
            "downloaded). ★ default, ● loaded now.",
            id="models-hint",
        )
        yield Footer()

    def on_screen_resume(self) -> None:
        """Every time the browser opens (the first time too): files may have come or gone."""
        self.refresh_table()
        self.query_one(DataTable).focus()

    def refresh_table(self) -> None:
        catalog = load_catalog(self.paths)
        self.entries = catalog.entries
        lines = [f"⚠ {p}" for p in catalog.problems]
        server = self.llm_app.config.server
        if server is not None:  # said before enter is pressed, not after
            lines.insert(
                0,
                f"The model is the one llama-server at {server.url} runs; these are this "
                "machine's files (download one here, then start llama-server with it).",
            )
        self.query_one("#models-problems", Static).update(Text("\n".join(lines)))
        state = load_state(self.paths)
        table: DataTable[str] = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for entry in sorted(self.entries.values(), key=lambda e: (e.size, e.id)):
            size = entry.size
            n_ctx = state.models.get(entry.id, {}).get("n_ctx", DEFAULT_CONTEXT)
            assert isinstance(n_ctx, int)  # checked against its range when state.toml was read
            fit = estimate(size, n_ctx, entry.local_path(self.paths))
            default = state.default_model or (entry.id if entry.is_embedded else None)  # unset: embedded
            marks = ("★" if entry.id == default else "") + (
                "●" if entry.id == self.llm_app.current_model else ""
            )
            status = "downloading" if entry.id in self.cancels else model_status(entry, self.paths)
            table.add_row(
                marks,
                f"{entry.name} · thinks" if entry.reasoning else entry.name,
                entry.params or "?",
                entry.quant or "?",
                human_bytes(size) if size else "?",
                fit.label(),
                status,
                key=entry.id,
            )
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def highlighted(self) -> CatalogEntry | None:
        table: DataTable[str] = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.entries.get(key or "")

    def _on_disk(self, entry: CatalogEntry) -> bool:
        return model_status(entry, self.paths) in ("yes", MODEL_STATUS_EMBEDDED)

    # Actions ---------------------------------------------------------------------------------------

    def action_use(self) -> None:
        entry = self.highlighted()
        if entry is None:
            return
        server = self.llm_app.config.server
        if server is not None:
            self.notify(
                f"The model is chosen by the server at {server.url}: restart llama-server with "
                f"`-m $(llm-tui models path {entry.id})` to use {entry.name}.",
                severity="warning",
                markup=False,
            )
            return
        if not self._on_disk(entry):
            self.notify(
                f"{entry.name} is not downloaded yet: press p to download it.",
                severity="warning",
                markup=False,
            )
            return
        self.dismiss(entry.id)  # the screen that opened the browser switches to it

    def action_download(self) -> None:
        entry = self.highlighted()
        if entry is None or entry.id in self.cancels:
            return
        if self._on_disk(entry):
            self.notify(f"{entry.name} is already here.", markup=False)
            return
        fit = estimate(entry.size, DEFAULT_CONTEXT, None)
        if fit.fits is False:
            self.notify(
                f"{entry.name} may not fit: it needs about {human_bytes(fit.needed)}.", severity="warning"
            )
        cancel = threading.Event()
        self.cancels[entry.id] = cancel
        self.query_one("#downloads").mount(DownloadRow(entry.id))
        self._download(entry, cancel)
        self.refresh_table()

    @work(thread=True, exit_on_error=False, group="downloads")
    def _download(self, entry: CatalogEntry, cancel: threading.Event) -> None:
        error = None

        def report(progress: Progress) -> None:
            self.post_message(DownloadProgress(entry.id, progress))

        try:
            pull(entry, self.paths, progress=report, cancel=cancel)
        except DownloadCancelled:
            error = "cancelled; download it again to resume"
        except (DownloadError, hub.HubError) as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug must not leave the row "starting…" for ever
            from tui.core.crash import write_report

            crash = write_report(exc)
            error = f"internal error: {type(exc).__name__}: {exc}; the report is in {crash}"
        self.post_message(DownloadFinished(entry.id, error))

    def on_download_progress(self, message: DownloadProgress) -> None:
        rows = self.query(f"#download-{message.model_id}").results(DownloadRow)
        for row in rows:
            row.show(message.progress)

    async def on_download_finished(self, message: DownloadFinished) -> None:
        self.cancels.pop(message.model_id, None)
        await self.query(f"#download-{message.model_id}").remove()
        if message.error:
            self.notify(f"{message.model_id}: {message.error}", severity="error", timeout=10)
        else:
            self.notify(f"{message.model_id} downloaded and verified: press enter to use it.")
        self.refresh_table()

    def action_cancel(self) -> None:
        entry = self.highlighted()
        if entry is not None and entry.id in self.cancels:
            self.cancels[entry.id].set()

    def action_delete(self) -> None:
        entry = self.highlighted()
        if entry is None:
            return
        path = entry.local_path(self.paths)
        try:
            parts = deletable_files(entry, self.paths)
        except ProblemError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        if not parts or entry.id in self.cancels:
            self.notify("Nothing to delete (or it is downloading: cancel first).", severity="warning")
            return

        def delete(yes: bool | None) -> None:
            if yes:
                for part in parts:
                    part.unlink(missing_ok=True)
                self.notify(f"Deleted {path.name}.")
                self.refresh_table()

        self.app.push_screen(Confirm(f"Delete {path}? It can be downloaded again.", "Delete"), delete)

    def action_set_default(self) -> None:
        entry = self.highlighted()
        if entry is None:
            return
        state = load_state(self.paths)
        state.default_model = entry.id
        try:
            save_state(self.paths, state)
        except OSError as exc:  # a full or read-only disk: said, the old default stays
            self.notify(f"Could not set the default: {exc}", severity="error", markup=False)
            return
        self.notify(f"{entry.name} is now the default model.")
        self.refresh_table()

    def action_details(self) -> None:
        entry = self.highlighted()
        if entry is not None:
            loaded = self._loaded_info(entry.id)
            self.app.push_screen(ModelDetails(entry, entry.local_path(self.paths), loaded))

    def action_settings(self) -> None:
        entry = self.highlighted()
        if entry is None:
            return
        state = load_state(self.paths)

        def save(values: dict[str, SettingValue] | None) -> None:
            if values is not None:
                fresh = load_state(self.paths)
                fresh.models[entry.id] = values
                try:
                    save_state(self.paths, fresh)
                except OSError as exc:
                    self.notify(f"Could not save the settings: {exc}", severity="error", markup=False)
                    return
                self.notify(f"Saved: they apply the next time {entry.name} loads.")
                self.refresh_table()

        self.app.push_screen(ModelSettings(entry.id, state.models.get(entry.id, {})), save)

    def action_close(self) -> None:
        self.dismiss(None)

    def _loaded_info(self, model_id: str) -> EngineInfo | None:
        """The loaded engine's info when ``model_id`` is the model loaded now."""
        return self.llm_app.loaded_info() if model_id == self.llm_app.current_model else None

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_use()
