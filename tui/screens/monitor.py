"""`sluice monitor`: every connector of the cluster, refreshed live, read-only.

One table (status, last sync, last seen) re-read from Elasticsearch every few seconds in a
worker; Enter opens the connector's job history. Nothing here writes: the store is opened
read-only, so even the connector indices are never created.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Static

from tui import services
from tui.commands import PaletteCommand
from tui.widgets.badges import SYMBOLS, escape

REFRESH_SECONDS = 5.0
#: connector/job status → the status word used by the badges (text, then colour).
STATUS_KIND = {
    "connected": "ok",
    "completed": "ok",
    "configured": "ok",
    "in_progress": "running",
    "pending": "pending",
    "created": "pending",
    "needs_configuration": "warn",
    "canceling": "warn",
    "canceled": "warn",
    "suspended": "warn",
    "error": "fail",
}


def ago(moment: datetime | None) -> str:
    """'12s ago', '5m ago', '3h ago', '2d ago' or '—'."""
    if moment is None:
        return "—"
    seconds = max((datetime.now(UTC) - moment).total_seconds(), 0)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


def status_text(status: Any) -> str:
    """`✔ connected` — a symbol and the word, so colour is never the only signal."""
    if status is None:
        return "—"
    word = str(status)
    return f"{SYMBOLS.get(STATUS_KIND.get(word, 'pending'), '·')} {word}"


class Refreshed(Message):
    def __init__(self, rows: list, backend: str, error: str = "") -> None:
        self.rows = rows
        self.backend = backend
        self.error = error
        super().__init__()


class JobsLoaded(Message):
    def __init__(self, jobs: list, error: str = "") -> None:
        self.jobs = jobs
        self.error = error
        super().__init__()


class MonitorScreen(Screen):
    """All connectors of one cluster."""

    BINDINGS: ClassVar = [
        Binding("r", "refresh", "Refresh now"),
        Binding("j", "jobs", "Job history (or Enter)"),
        Binding("q", "app.quit", "Quit"),
    ]
    DEFAULT_CSS = """
    MonitorScreen #monitor-info { height: 1; padding: 0 1; background: $panel; }
    MonitorScreen #monitor-error { height: auto; padding: 0 1; color: $text-error; display: none; }
    MonitorScreen #monitor-error.-shown { display: block; }
    MonitorScreen DataTable { height: 1fr; }
    """

    def __init__(self, settings: dict[str, Any], *, refresh_seconds: float = REFRESH_SECONDS):
        super().__init__()
        self.settings = settings
        self.refresh_seconds = refresh_seconds
        self._connectors: dict[str, Any] = {}
        self._refreshed_at: float | None = None
        self._info = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading the cluster…", id="monitor-info")
        yield Static("", id="monitor-error")
        yield DataTable(id="connectors", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Monitor (read-only)"
        table = self.query_one(DataTable)
        table.add_column("Name", key="name")
        table.add_column("Type", key="type")
        table.add_column("Status", key="status")
        table.add_column("Last sync", key="last_sync")
        table.add_column("Synced", key="synced")
        table.add_column("Seen", key="seen")
        table.add_column("Index", key="index")
        table.add_column("Id", key="id")
        self.set_interval(self.refresh_seconds, self.action_refresh)
        self.set_interval(1.0, self._show_age)
        self.action_refresh()

    def action_refresh(self) -> None:
        self._read()

    def _show_age(self) -> None:
        """`refreshed 3s ago`: stale data is visible at a glance (e.g. a dropped SSH link)."""
        if self._refreshed_at is None:
            return
        age = int(time.monotonic() - self._refreshed_at)
        self.query_one("#monitor-info", Static).update(
            f"{self._info} · refreshed {age}s ago · every {self.refresh_seconds:.0f}s"
        )

    @work(exclusive=True, group="monitor-read")
    async def _read(self) -> None:
        try:
            async with services.Cluster(self.settings, read_only=True) as cluster:
                connectors = await cluster.list_connectors()
                backend = cluster.backend
        except Exception as exc:
            self.post_message(Refreshed([], "", f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(Refreshed(connectors, backend))

    def on_refreshed(self, message: Refreshed) -> None:
        error = self.query_one("#monitor-error", Static)
        host = escape(str(self.settings.get("host", "")))
        if message.error:
            error.update(
                f"✖ Could not read the cluster: {escape(message.error)} "
                f"(retrying every {self.refresh_seconds:.0f}s)"
            )
            error.add_class("-shown")
            return
        error.remove_class("-shown")
        self._refreshed_at = time.monotonic()
        via = {"api": "Connector API", "index": "connector indices"}.get(message.backend, "")
        self._info = f"{host} · {len(message.rows)} connector(s) · via {via}"
        self._show_age()
        table = self.query_one(DataTable)
        seen = set()
        for connector in message.rows:
            seen.add(connector.id)
            cells = {
                "name": escape(connector.name or "(no name)"),
                "type": str(connector.service_type or "?"),
                "status": status_text(connector.status),
                "last_sync": status_text(connector.last_sync_status),
                "synced": ago(connector.last_synced),
                "seen": ago(connector.last_seen),
                "index": escape(connector.index_name or "—"),
                "id": connector.id,
            }
            if connector.id in table.rows:
                for column, value in cells.items():
                    table.update_cell(connector.id, column, value)
            else:
                table.add_row(*cells.values(), key=connector.id)
        for key in [k for k in table.rows if k.value not in seen]:
            table.remove_row(key)
        self._connectors = {c.id: c for c in message.rows}

    @on(DataTable.RowSelected, "#connectors")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self._open_jobs(str(event.row_key.value))

    def action_jobs(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            self._open_jobs(str(key.value))

    def _open_jobs(self, connector_id: str) -> None:
        connector = self._connectors.get(connector_id)
        name = connector.name if connector is not None else connector_id
        self.app.push_screen(JobHistoryScreen(self.settings, connector_id, name))

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand("Refresh now", "Read every connector again", self.action_refresh),
            PaletteCommand("Job history of the selected connector", "Read-only", self.action_jobs),
        ]


class JobHistoryScreen(ModalScreen[None]):
    """The sync jobs of one connector (newest first), refreshed while open."""

    BINDINGS: ClassVar = [Binding("escape,q", "close", "Close"), Binding("r", "refresh", "Refresh")]
    DEFAULT_CSS = """
    JobHistoryScreen { align: center middle; }
    JobHistoryScreen > Vertical {
        width: 95%; height: 80%; border: thick $primary; background: $surface; padding: 0 1;
    }
    JobHistoryScreen #jobs-title { text-style: bold; height: 1; }
    JobHistoryScreen DataTable { height: 1fr; }
    """

    def __init__(self, settings: dict[str, Any], connector_id: str, name: str) -> None:
        super().__init__()
        self.settings, self.connector_id, self.name_text = settings, connector_id, name

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"Jobs of {escape(self.name_text)} ({self.connector_id}) — Escape closes",
                id="jobs-title",
            )
            yield DataTable(id="jobs", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            "Created",
            "Type",
            "Trigger",
            "Status",
            "Indexed",
            "Deleted",
            "Duration",
            "Worker",
            "Error",
        )
        self.set_interval(REFRESH_SECONDS, self.action_refresh)
        self.action_refresh()

    def action_refresh(self) -> None:
        self._read()

    def action_close(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="jobs-read")
    async def _read(self) -> None:
        try:
            async with services.Cluster(self.settings, read_only=True) as cluster:
                jobs = await cluster.list_jobs(self.connector_id, size=50)
        except Exception as exc:
            self.post_message(JobsLoaded([], f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(JobsLoaded(jobs))

    def on_jobs_loaded(self, message: JobsLoaded) -> None:
        table = self.query_one(DataTable)
        table.clear()
        if message.error:
            table.add_row("—", "", "", f"✖ {escape(message.error)}", "", "", "", "", "")
            return
        for job in message.jobs:
            start = job.started_at or job.created_at
            end = job.completed_at or job.canceled_at
            duration = "—"
            if job.started_at and end:
                seconds = int((end - job.started_at).total_seconds())
                duration = f"{seconds // 60}m{seconds % 60:02d}s"
            table.add_row(
                start.strftime("%Y-%m-%d %H:%M:%S") if start else "—",
                str(job.job_type or "?"),
                str(job.trigger_method or "?"),
                status_text(job.status),
                f"{job.indexed_document_count:,}",
                f"{job.deleted_document_count:,}",
                duration,
                escape(job.worker_hostname or "—"),
                escape((job.error or "")[:60]),
                key=job.id,
            )
        if not message.jobs:
            table.add_row("—", "", "", "no job yet", "", "", "", "", "")
