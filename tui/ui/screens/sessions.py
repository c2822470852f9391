"""Saved sessions: a record kept for the user that the model cannot see, or reopen one and go on."""

from __future__ import annotations

import json
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Markdown, Static

from tui.core.atomic import write_text_atomic
from tui.core.chat import export, transcripts
from tui.paths import get_paths
from tui.ui.actions import bindings

BANNER = (
    "Kept for you. The model cannot see any of this: every session starts from nothing, and only "
    "the current session's messages are ever sent to it. Reopen one (o) to go on with it: its "
    "messages are then sent again as text, in a new session."
)


class SessionsView(Screen[Path | None]):
    """Returns the transcript to reopen, or None."""

    SUB_TITLE = "saved sessions"
    BINDINGS = bindings("sessions")

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(BANNER, id="sessions-banner")
        with Horizontal():
            table: DataTable[str] = DataTable(id="sessions-table", cursor_type="row")
            table.add_columns("Started", "Turns", "Branches", "Model", "First message")
            yield table
            with VerticalScroll(id="session-preview-box"):
                yield Markdown("", id="session-preview")
        yield Footer()

    def on_mount(self) -> None:
        saved, problems = transcripts.list_saved(get_paths())
        self.saved = {item.id: item for item in saved}
        table: DataTable[str] = self.query_one(DataTable)
        for item in saved:
            first = " ".join(item.first_message.split())
            first = first if len(first) <= 40 else first[:39] + "…"
            started = item.started.replace("T", " ")[:16]  # 2026-12-03 16:40: the zone is the file's
            branches = str(item.branches)
            table.add_row(started, str(item.turns), branches, item.model, first, key=item.id)
        for problem in problems:
            self.notify(str(problem), severity="warning", markup=False)
        if not saved:
            self.query_one("#session-preview", Markdown).update("No saved sessions yet.")
        table.focus()

    def _current(self) -> transcripts.Saved | None:
        table: DataTable[str] = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.saved.get(key or "")

    show_tree = False
    """The preview shows every branch as an outline (``t``), or the current path as Markdown."""

    @on(DataTable.RowHighlighted)
    async def _preview(self) -> None:
        item = self._current()
        if item is not None:
            try:
                saved = transcripts.load(item.path)
                outline = export.outline(saved, width=40)
                text = f"```text\n{outline}```" if self.show_tree else export.to_markdown(saved)
            except (OSError, ValueError) as exc:
                text = f"`{item.path}` cannot be shown: {transcripts.reason_of(exc)}"
            await self.query_one("#session-preview", Markdown).update(text)

    async def action_tree(self) -> None:
        self.show_tree = not self.show_tree
        await self._preview()

    def action_export(self, kind: str) -> None:
        item = self._current()
        if item is None:
            return
        target = get_paths().data / "exports" / f"{item.path.stem}.{kind}"
        try:
            saved = transcripts.load(item.path)
            if kind == "md":
                write_text_atomic(target, export.to_markdown(saved))
            else:
                write_text_atomic(target, json.dumps(saved.to_json(), ensure_ascii=False, indent=2) + "\n")
        except (OSError, ValueError) as exc:
            reason = transcripts.reason_of(exc) if not isinstance(exc, OSError) else exc.strerror or str(exc)
            self.notify(f"Could not export to {target}: {reason}", severity="error", markup=False)
            return
        self.notify(f"Exported to {target}", markup=False)

    def action_reopen(self) -> None:
        item = self._current()
        if item is not None:
            self.dismiss(item.path)

    def action_close(self) -> None:
        self.dismiss(None)
