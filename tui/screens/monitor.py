"""`sluice monitor`: every connector of the cluster, refreshed live, read-only.

One table (status, last sync, last seen) re-read from Elasticsearch every few seconds in a
worker; Enter opens the connector's job history. Nothing here writes: the store is opened
read-only, so even the connector indices are never created.

A monitor must say when it can no longer see the cluster: each read has a deadline under
the refresh interval and no retries (the next tick is the retry), a tick never cancels a
read in flight, and a failed read shows a banner and dims the rows until a read succeeds.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Static

from sluice.tui.session import Cluster

if TYPE_CHECKING:
    from sluice.core.workflows.cluster import Cluster as ClusterType
from sluice.tui.commands import PaletteCommand
from sluice.tui.widgets.banner import Banner
from sluice.tui.widgets.connector_table import ConnectorTable, ago, status_text, wrap

REFRESH_SECONDS = 5.0
#: The longest a read may take, whatever the interval: a hung cluster shows up quickly.
MAX_READ_SECONDS = 10.0
UNREACHABLE = "cannot reach Elasticsearch ("


def read_deadline(refresh_seconds: float) -> float:
    """Seconds one read may take: under the refresh interval, so its error lands before
    the next tick."""
    return max(0.5, min(refresh_seconds * 0.8, MAX_READ_SECONDS))


def read_settings(settings: dict[str, Any], deadline: float) -> dict[str, Any]:
    """The `elasticsearch` settings for the monitor's client: short timeout, no retries
    (the config's defaults retry for minutes, right for a sync, wrong for a monitor)."""
    timeout = float(settings.get("request_timeout") or deadline)
    return {
        **settings,
        "request_timeout": min(timeout, deadline),
        "max_retries": 0,
        "retry_on_timeout": False,
    }


def host_label(settings: dict[str, Any]) -> str:
    """`https://HOST:PORT` of the cluster, never the userinfo a URL could carry."""
    raw = str(settings.get("host") or "")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return raw.rsplit("@", 1)[-1]
    if not parts.hostname:
        return raw.rsplit("@", 1)[-1]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def failure(exc: BaseException, deadline: float) -> tuple[bool, str]:
    """(the cluster is unreachable, the reason in a few words) for a failed read."""
    if isinstance(exc, TimeoutError):
        return True, f"no answer within {deadline:g}s"
    text = str(exc) or type(exc).__name__
    if UNREACHABLE in text:
        return True, text.split(UNREACHABLE, 1)[1].removesuffix(")")
    return False, text


class Refreshed(Message):
    def __init__(self, rows: list, backend: str, error: str = "", unreachable: bool = False):
        self.rows = rows
        self.backend = backend
        self.error = error
        self.unreachable = unreachable
        super().__init__()


class JobsLoaded(Message):
    def __init__(self, jobs: list, error: str = "") -> None:
        self.jobs = jobs
        self.error = error
        super().__init__()


class MonitorScreen(Screen):
    """All connectors of one cluster."""

    BINDINGS: ClassVar = [
        Binding("r", "refresh", "Refresh"),
        Binding("j", "jobs", "Jobs (or Enter)"),
        Binding("w", "explain", "Why stuck?"),
        Binding("q", "app.quit", "Quit"),
    ]
    DEFAULT_CSS = """
    MonitorScreen #monitor-info { height: auto; padding: 0 1; background: $panel; }
    MonitorScreen ConnectorTable { height: 1fr; }
    """

    def __init__(self, settings: dict[str, Any], *, refresh_seconds: float = REFRESH_SECONDS):
        super().__init__()
        self.settings = settings
        self.refresh_seconds = refresh_seconds
        self.deadline = read_deadline(refresh_seconds)
        self.host = host_label(settings)
        self._cluster: ClusterType | None = None
        self._reading = False
        self._connectors: dict[str, Any] = {}
        self._good_at: datetime | None = None  # end of the last read that succeeded
        self._via = ""
        self._error = ""  # the banner's first half while reads fail, else ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Banner(id="monitor-banner")
        yield Static("Reading the cluster…", id="monitor-info", markup=False)
        yield ConnectorTable(id="connectors")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Monitor (read-only)"
        self.set_interval(self.refresh_seconds, self._tick)
        self.set_interval(1.0, self._paint)
        self._tick()

    async def on_unmount(self) -> None:
        if self._cluster is not None:
            await self._cluster.close()

    # ------------------------------------------------------------------ reading
    def _tick(self) -> None:
        """Start a read unless one is still running: a tick never cancels a read in flight
        (that is how a slow failure used to go unreported)."""
        if not self._reading:
            self._reading = True
            self._read()

    def action_refresh(self) -> None:
        if self._reading:
            self.notify(f"Still reading the cluster (at most {self.deadline:g}s).", timeout=2)
            return
        self._tick()

    @work(group="monitor-read")
    async def _read(self) -> None:
        try:
            if self._cluster is None:  # one client for the screen's life, built on first use
                settings = read_settings(self.settings, self.deadline)
                self._cluster = Cluster(settings, read_only=True)
            async with asyncio.timeout(self.deadline):
                connectors = await self._cluster.list_connectors()
            message = Refreshed(connectors, self._cluster.backend)
        except Exception as exc:
            unreachable, reason = failure(exc, self.deadline)
            message = Refreshed([], "", reason, unreachable)
        finally:
            self._reading = False
        self.post_message(message)

    def on_refreshed(self, message: Refreshed) -> None:
        table = self.query_one(ConnectorTable)
        if message.error:
            if message.unreachable:
                self._error = f"Cannot reach Elasticsearch at {self.host}: {message.error}"
            else:
                self._error = f"Cannot read the connectors from {self.host}: {message.error}"
            table.mark_stale()
            self._paint()
            return
        self._error = ""
        self._good_at = datetime.now(UTC)
        self._via = {"api": "Connector API", "index": "connector indices"}.get(message.backend, "")
        self._connectors = {c.id: c for c in message.rows}
        table.show(message.rows)
        self._paint()

    # ------------------------------------------------------------------ showing
    @property
    def stale(self) -> bool:
        return bool(self._error)

    def _paint(self) -> None:
        """The banner and the info line, with ages that move every second."""
        banner = self.query_one(Banner)
        every = f"every {self.refresh_seconds:g}s"
        good = self._good_at
        count = len(self._connectors)
        listed = f"{count} connector{'' if count == 1 else 's'} via {self._via}"
        if not self._error:
            banner.hide()
            if good is not None:
                self._info(f"{self.host} · {listed}", f"read {ago(good)} · {every}")
            return
        last = "no good read yet"
        if good is not None:
            last = f"last good read {good.astimezone():%H:%M:%S} ({ago(good)})"
        banner.show(f"✖ {self._error} — {last}; retrying {every}")
        if good is None:
            self._info(self.host, "no connector read yet")
        else:
            self._info(f"{self.host} · {listed}", "STALE: the rows are from the last good read")

    def _info(self, *parts: str) -> None:
        """The info line: its parts on one line when they fit, else one part a line (rather
        than words wrapped mid-phrase at 80 columns)."""
        info = self.query_one("#monitor-info", Static)
        line = " · ".join(parts)
        fits = cell_len(line) <= (info.content_region.width or self.app.size.width - 2)
        info.update(line if fits else "\n".join(parts))

    # ------------------------------------------------------------------ jobs
    @on(DataTable.RowSelected, "#connectors")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self._open_jobs(str(event.row_key.value))

    def action_jobs(self) -> None:
        table = self.query_one(ConnectorTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            self._open_jobs(str(key.value))

    def action_explain(self) -> None:
        """Why the highlighted connector is not progressing (read-only, like the rest)."""
        from sluice.tui.screens.explain import ExplainScreen  # the client: not at start-up

        table = self.query_one(ConnectorTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            self.app.push_screen(
                ExplainScreen(
                    self.settings,
                    str(key.value),
                    config_path=getattr(self.app, "config_path", None),
                )
            )

    def _open_jobs(self, connector_id: str) -> None:
        connector = self._connectors.get(connector_id)
        name = connector.name if connector is not None else connector_id
        self.app.push_screen(
            JobHistoryScreen(read_settings(self.settings, self.deadline), connector_id, name)
        )

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand("Refresh now", "Read every connector again", self.action_refresh),
            PaletteCommand("Job history of the selected connector", "Read-only", self.action_jobs),
            PaletteCommand(
                "Why is the selected connector stuck?",
                "Likely causes and fixes",
                self.action_explain,
            ),
        ]


class JobHistoryScreen(ModalScreen[None]):
    """The sync jobs of one connector (newest first), refreshed while open.

    Below 100 columns the rows stack (duration under the start, trigger under the type,
    worker under the status). The highlighted job's error shows in full under the table, so
    nothing scrolls out of sight at 80x24."""

    BINDINGS: ClassVar = [
        Binding("escape,q", "close", "Close"),
        Binding("r", "refresh", "Refresh"),
        Binding("w", "explain", "Why stuck?"),
    ]
    DEFAULT_CSS = """
    JobHistoryScreen { align: center middle; }
    JobHistoryScreen > Vertical {
        width: 95%; height: 80%; border: thick $primary; background: $surface; padding: 0 1;
    }
    JobHistoryScreen.-narrow > Vertical { width: 100%; height: 100%; }
    JobHistoryScreen #jobs-title { text-style: bold; height: auto; }
    JobHistoryScreen #jobs-error { height: auto; color: $text-error; }
    JobHistoryScreen #jobs-detail { height: auto; max-height: 4; color: $text-muted; }
    JobHistoryScreen DataTable { height: 1fr; }
    """
    WIDE = ("Created", "Type", "Trigger", "Status", "Indexed", "Deleted", "Took", "Worker", "Error")
    NARROW = (("Created / Took", 19), ("Type / Trigger", 14), ("Status / Worker", 15))

    def __init__(self, settings: dict[str, Any], connector_id: str, name: str) -> None:
        super().__init__()
        self.settings, self.connector_id, self.name_text = settings, connector_id, name
        self._reading = False
        self._jobs: dict[str, Any] = {}
        self._narrow: bool | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"Jobs of {self.name_text} ({self.connector_id}) — Escape closes",
                id="jobs-title",
                markup=False,
            )
            yield Static("", id="jobs-error", markup=False)
            yield DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
            yield Static("", id="jobs-detail", markup=False)

    def on_mount(self) -> None:
        self.set_interval(REFRESH_SECONDS, self.action_refresh)
        self.action_refresh()

    def action_refresh(self) -> None:
        if not self._reading:  # as on the monitor: a tick never cancels a read in flight
            self._reading = True
            self._read()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_explain(self) -> None:
        """Why the highlighted job (else the connector) is not progressing."""
        from sluice.tui.screens.explain import ExplainScreen  # the client: not at start-up

        job = self._highlighted()
        self.app.push_screen(
            ExplainScreen(
                self.settings,
                job.id if job is not None else self.connector_id,
                config_path=getattr(self.app, "config_path", None),
            )
        )

    def _highlighted(self) -> Any:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self._jobs.get(str(key))

    @work(group="jobs-read")
    async def _read(self) -> None:
        try:
            async with Cluster(self.settings, read_only=True) as cluster:
                jobs = await cluster.list_jobs(self.connector_id, size=50)
        except Exception as exc:
            unreachable, reason = failure(exc, float(self.settings.get("request_timeout", 0)))
            what = "Cannot reach Elasticsearch" if unreachable else "Cannot read the jobs"
            self.post_message(JobsLoaded([], f"✖ {what}: {reason}; retrying"))
            return
        finally:
            self._reading = False
        self.post_message(JobsLoaded(jobs))

    def on_jobs_loaded(self, message: JobsLoaded) -> None:
        error = self.query_one("#jobs-error", Static)
        error.update(message.error)
        error.display = bool(message.error)
        if message.error:
            return  # the last jobs read stay on show
        self._jobs = {job.id: job for job in message.jobs}
        self._fill()

    def on_resize(self) -> None:
        if self._jobs and self._narrow != (self.app.size.width < 100):
            self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        narrow = self.app.size.width < 100
        selected = None
        if table.row_count:
            selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear(columns=narrow != self._narrow)
        if narrow != self._narrow:
            if narrow:
                for label, width in self.NARROW:
                    table.add_column(label, width=width)
                table.add_column("Docs +/-")
            else:
                table.add_columns(*self.WIDE)
            self._narrow = narrow
        for job in self._jobs.values():
            start = job.started_at or job.created_at
            end = job.completed_at or job.canceled_at
            took = "—"
            if job.started_at and end:
                seconds = int((end - job.started_at).total_seconds())
                took = f"{seconds // 60}m{seconds % 60:02d}s"
            created = start.strftime("%Y-%m-%d %H:%M:%S") if start else "—"
            kind, trigger = str(job.job_type or "?"), str(job.trigger_method or "?")
            status, worker = status_text(job.status), job.worker_label or "—"
            indexed, deleted = f"{job.indexed_document_count:,}", f"{job.deleted_document_count:,}"
            if not narrow:
                cells = (created, kind, trigger, status, indexed, deleted, took, worker)
                table.add_row(*(Text(c) for c in cells), Text((job.error or "")[:60]), key=job.id)
                continue
            stacked = [f"{created}\n{took}", f"{kind}\n{trigger}", f"{status}\n{worker}"]
            lines = [
                "\n".join(part for line in cell.split("\n") for part in wrap(line, width))
                for cell, (_, width) in zip(stacked, self.NARROW, strict=True)
            ]
            lines.append(f"+{indexed}\n-{deleted}")
            height = max(len(cell.split("\n")) for cell in lines)
            table.add_row(*(Text(cell) for cell in lines), key=job.id, height=height)
        if not self._jobs:
            table.add_row(*(["—", "no job yet"] + [""] * (len(table.columns) - 2)))
        if selected in self._jobs:
            table.move_cursor(row=table.get_row_index(selected), animate=False)
        self._show_detail()

    @on(DataTable.RowHighlighted, "#jobs")
    def _show_detail(self) -> None:
        """The highlighted job's error, whole (the table has no room for it at 80 columns and
        cuts it at 60 characters otherwise)."""
        from sluice.core.engine.runner import job_reconciliation  # the engine: not at start-up

        detail = self.query_one("#jobs-detail", Static)
        job = self._highlighted()
        lines = []
        if job is not None and job.error:
            lines.append(f"Error: {job.error}")
        checked = job_reconciliation(job.metadata) if job is not None else None
        if checked is not None:
            lines.append(f"Index check: {checked.line()}")
        text = "\n".join(lines)
        detail.update(text)
        detail.display = bool(text)
