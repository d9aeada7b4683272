"""The live sync dashboard: counters, rate with a sparkline, progress and ETA, recent
failures (details on Enter), a log tail, the connector's job history, and cancel.

Updates are pulled, not pushed: a timer polls the feed at `REFRESH_HZ` (≤ 10 Hz) and only
repaints what changed, so a sync of millions of documents costs the screen a few repaints a
second — also over a slow SSH link.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Log,
    ProgressBar,
    Sparkline,
    Static,
    TabbedContent,
    TabPane,
)

from sluice.core.invocation import sluice_command
from sluice.core.workflows.job_failures import export_job_failures
from sluice.core.workflows.sync_reading import SyncReading
from sluice.tui.commands import PaletteCommand
from sluice.tui.feeds import SyncFeed
from sluice.tui.screens.explain import ExplainScreen
from sluice.tui.screens.modals import ConfirmScreen, DetailScreen
from sluice.tui.session import Cluster
from sluice.tui.widgets.badges import animations_on, badge_markup, escape
from sluice.tui.widgets.counters import CountersPanel

if TYPE_CHECKING:
    from sluice.core.engine.progress import Counters

REFRESH_HZ = 4
HISTORY_SECONDS = 10.0
RATE_POINTS = 60
STATUS_BADGE = {
    "completed": "ok",
    "running": "running",
    "in_progress": "running",
    "starting": "running",
    "finishing": "running",
    "pending": "pending",
    "canceling": "warn",
    "suspending": "warn",
    "canceled": "warn",
    "suspended": "warn",
    "error": "fail",
}


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class HistoryLoaded(Message):
    def __init__(self, jobs: list, error: str = "") -> None:
        self.jobs = jobs
        self.error = error
        super().__init__()


class DashboardScreen(Screen):
    """Watch one sync (run here, or by the service)."""

    #: One sparkline bar per this many seconds.
    RATE_SAMPLE_SECONDS: ClassVar[float] = 1.0

    BINDINGS: ClassVar = [
        # short descriptions: the footer must fit 80 columns
        Binding("c", "cancel_sync", "Cancel", tooltip="Cancel the sync"),
        Binding("r", "refresh_history", "History", tooltip="Refresh the job history"),
        Binding("e", "export_failures", "Export"),
        Binding(
            "d", "confirm_deletions", "Confirm", tooltip="Let the sync delete what it found stale"
        ),
        Binding("w", "explain", "Why stuck?", tooltip="What keeps this sync from progressing"),
        Binding("escape", "leave", "Back"),
    ]

    DEFAULT_CSS = """
    DashboardScreen #dash-head { height: auto; padding: 0 1; background: $panel; }
    DashboardScreen #dash-title { width: 1fr; text-style: bold; }
    DashboardScreen #dash-status { width: auto; }
    DashboardScreen #dash-main { height: auto; padding: 0 1; }
    DashboardScreen #dash-rate { height: 2; }
    DashboardScreen #dash-rate > Sparkline { width: 1fr; height: 2; }
    DashboardScreen #dash-rate-label, DashboardScreen #dash-progress-label {
        width: 14; color: $text-muted; padding-left: 1;
    }
    DashboardScreen #dash-progress-row { height: 1; }
    DashboardScreen #dash-progress { width: 1fr; }
    DashboardScreen #dash-progress Bar { width: 1fr; }
    DashboardScreen #dash-times { padding-left: 1; }
    DashboardScreen #dash-times { height: auto; color: $text-muted; }
    DashboardScreen #dash-stall { color: $text-warning; text-style: bold; height: auto; }
    DashboardScreen #dash-stall { display: none; }
    DashboardScreen #dash-stall.-shown { display: block; }
    DashboardScreen #dash-error { color: $text-error; height: auto; display: none; }
    DashboardScreen #dash-error.-shown { display: block; }
    DashboardScreen #dash-notice { color: $text-warning; height: auto; display: none; }
    DashboardScreen #dash-notice.-shown { display: block; }
    DashboardScreen #dash-check { height: auto; display: none; }
    DashboardScreen #dash-check.-shown { display: block; }
    DashboardScreen #dash-check.-differs { color: $text-warning; }
    DashboardScreen TabbedContent { height: 1fr; }
    DashboardScreen DataTable { height: 1fr; }
    DashboardScreen #dash-tip { color: $text-muted; height: auto; padding: 0 1; }
    DashboardScreen.-short #dash-tip { display: none; }
    """

    def __init__(self, feed: SyncFeed, *, on_leave=None) -> None:
        super().__init__()
        self.feed = feed
        self._last: SyncReading | None = None
        self._rates: list[float] = [0.0] * RATE_POINTS  # the last minute, filled from the right
        self._last_rate_sample = 0.0
        self._failures_shown = 0
        self._history_at = 0.0
        self._cancel_requested = False
        self._leave_callback = on_leave
        self._remove_stop_hook = None
        self._untrack: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="dash-head"):
            yield Static(escape(self.feed.title), id="dash-title")
            yield Static("", id="dash-status")
        with Vertical(id="dash-main"):
            yield CountersPanel(id="dash-counters")
            with Horizontal(id="dash-rate"):
                yield Static("Rate (1 min)", id="dash-rate-label")
                yield Sparkline(self._rates, id="dash-sparkline")
            with Horizontal(id="dash-progress-row"):
                yield Static("Progress", id="dash-progress-label")
                yield ProgressBar(total=None, show_eta=False, id="dash-progress")
            yield Static("", id="dash-times")
            yield Static("", id="dash-stall")
            yield Static("", id="dash-error")
            yield Static("", id="dash-notice")
            yield Static("", id="dash-check")
        with TabbedContent(id="dash-tabs"):
            with TabPane("Failures", id="tab-failures"):
                yield DataTable(id="failures", cursor_type="row", zebra_stripes=True)
            with TabPane("Log", id="tab-log"):
                yield Log(id="log", max_lines=1000, auto_scroll=True)
            with TabPane("History", id="tab-history"):
                yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
        yield Static(
            getattr(self.feed, "tip", None)
            or f"Tip: long syncs are safest in the service (`{sluice_command()} run`) or "
            "inside tmux/screen — "
            "closing this terminal suspends the sync (resumable).",
            id="dash-tip",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Sync dashboard"
        failures = self.query_one("#failures", DataTable)
        failures.add_columns("Time", "Document", "Operation", "Reason")
        history = self.query_one("#history", DataTable)
        history.add_columns(
            "Started", "Type", "Trigger", "Status", "Indexed", "Deleted", "Duration"
        )
        add_hook = getattr(self.app, "add_stop_hook", None)
        if add_hook is not None:
            self._remove_stop_hook = add_hook(self._on_stop_signal)
        shutdown = getattr(self.app, "shutdown", None)
        if shutdown is not None and getattr(self.feed, "run", None) is not None:
            # a closed terminal suspends a sync run here, from outside the event loop
            self._untrack = shutdown.track(self.feed.suspend, lambda: self.feed.poll().finished)
        self.feed.start(self)
        self._sample_rate(self.feed.poll(), time.monotonic())
        self.set_interval(1 / REFRESH_HZ, self.refresh_view)
        self.refresh_view()
        self.action_refresh_history()

    async def on_unmount(self) -> None:
        if self._remove_stop_hook is not None:
            self._remove_stop_hook()
        if self._untrack is not None:
            self._untrack()
        close = getattr(self.feed, "close", None)
        if close is not None:  # the feed's client lives as long as this screen
            await close()

    # ------------------------------------------------------------------ polling
    def refresh_view(self) -> None:
        state = self.feed.poll()
        if state != self._last:
            self._paint(state)
        self._paint_log()
        self._paint_failures()
        now = time.monotonic()
        if not state.finished and now - self._last_rate_sample >= self.RATE_SAMPLE_SECONDS:
            self._sample_rate(state, now)  # a finished sync adds no more bars
        previous = self._last
        self._last = state
        if state.finished and (previous is None or not previous.finished):
            self._finished(state)
        elif not state.finished and now - self._history_at > HISTORY_SECONDS:
            self.action_refresh_history()

    def _sample_rate(self, state: SyncReading, now: float) -> None:
        """One sparkline bar per second."""
        self._last_rate_sample = now
        self._rates = [*self._rates, state.snapshot.docs_per_second][-RATE_POINTS:]
        self.query_one("#dash-sparkline", Sparkline).data = self._rates

    def _paint(self, state: SyncReading) -> None:
        snapshot = state.snapshot
        counters = snapshot.counters
        self.query_one(CountersPanel).update_values(
            {**counters.as_dict(), "rate": snapshot.docs_per_second},
            labels={"rate": "Docs/s (average)"} if snapshot.rate_is_average else None,
        )
        frame = int(time.time() * 4) if animations_on(self) else 0
        kind = STATUS_BADGE.get(state.status, "pending")
        label = state.status.replace("_", " ").upper()
        if state.status == "completed" and counters.failed:  # not a clean success
            kind, label = "warn", f"COMPLETED WITH {counters.failed:,} FAILED"
        self.query_one("#dash-status", Static).update(
            f"{badge_markup(kind, frame)} [b]{label}[/b] · {escape(str(snapshot.phase))}"
        )
        self._paint_progress(state)
        stall = self.query_one("#dash-stall", Static)
        if state.stalled or state.waiting:
            stall.update(f"⚠ {escape(state.stalled or state.waiting or '')}")
            stall.add_class("-shown")
        else:
            stall.remove_class("-shown")
        error = self.query_one("#dash-error", Static)
        if state.last_error and state.deletion_guard is None:  # the guard's line says it
            error.update(f"✖ Last error: {escape(state.last_error)}")
            error.add_class("-shown")
        else:
            error.remove_class("-shown")
        notice = self.query_one("#dash-notice", Static)
        if state.notices:  # what the sync went on despite, e.g. a missing ingest pipeline
            notice.update("\n".join(f"⚠ {escape(text)}" for text in state.notices))
            notice.add_class("-shown")
        else:
            notice.remove_class("-shown")
        self._paint_check(state)

    def _paint_check(self, state: SyncReading) -> None:
        """After the sync: the index against the source, or what the guard stopped."""
        check = self.query_one("#dash-check", Static)
        guard, found = state.deletion_guard, state.reconciliation
        if guard is not None:
            check.update(
                f"⚠ Deletion guard: {guard.stale:,} of {guard.indexed:,} documents "
                f"({guard.percent:.0f} %) would go; nothing was deleted. Press d to confirm."
            )
            check.set_classes("-shown -differs")
        elif found is not None:
            advice = found.advice()
            mark = f" — {advice}" if advice else ""
            check.update(escape(f"Index check: {found.line()}{mark}"))
            check.set_classes("-shown -differs" if found.matches is False else "-shown")
        else:
            check.set_classes("")

    def _paint_progress(self, state: SyncReading) -> None:
        """The current phase's bar: documents read, then stale documents deleted; 100 % only
        once the sync completed."""
        snapshot = state.snapshot
        self.query_one("#dash-progress-label", Static).update(
            "Deleting" if snapshot.in_deletion else "Progress"
        )
        fraction = snapshot.fraction
        bar = self.query_one("#dash-progress", ProgressBar)
        if fraction is not None:
            bar.update(total=100, progress=fraction * 100)
        elif state.finished:  # stopped without a known total: a still bar, not a pulse
            bar.update(total=100, progress=0)
        done, total = snapshot.shown_progress
        times = f"Elapsed {clock(snapshot.elapsed)}"
        if snapshot.in_deletion:
            times += f" · deleted {done:,} of {total or 0:,}"
        elif total:
            times += f" · {done:,} of {total:,}"
        else:
            times += " · total unknown (the source does not say)"
        if total and not state.finished:
            times += f" · ETA {clock(snapshot.eta_seconds)}"
        if state.job_id:
            times += f" · job {state.job_id}"
        self.query_one("#dash-times", Static).update(times)

    def _paint_log(self) -> None:
        lines = self.feed.new_log_lines()
        if lines:
            self.query_one("#log", Log).write_lines(lines)

    def _paint_failures(self) -> None:
        rows = self.feed.failures(200)
        if len(rows) == self._failures_shown:
            return
        table = self.query_one("#failures", DataTable)
        # Fit the width (no sideways scrolling at 80 columns); Enter shows a row in full.
        document_width = 40 if self.size.width >= 100 else 26
        # time 8, operation 9, four cells padded by 2, and the scrollbar
        reason_width = max(20, self.size.width - document_width - 8 - 9 - 8 - 2)
        for row in rows[self._failures_shown :]:
            table.add_row(
                row.time,
                escape(_short_start(row.document, document_width)),  # file names may hold [
                row.operation,
                escape(_short(row.reason, reason_width)),
                key=f"{len(table.rows)}",
            )
        self._failures_shown = len(rows)
        self.query_one(TabbedContent).get_tab("tab-failures").label = f"Failures ({len(rows)})"

    def _finished(self, state: SyncReading) -> None:
        verdict = {
            "completed": ("Sync completed", "information"),
            "canceled": ("Sync canceled", "warning"),
            "suspended": ("Sync suspended — it resumes with the next run", "warning"),
            "error": ("Sync failed", "error"),
        }.get(state.status, (f"Sync {state.status}", "information"))
        counters = state.snapshot.counters
        if state.status == "completed" and counters.failed:
            verdict = ("Sync completed with failures (see the Failures tab)", "warning")
        if state.deletion_guard is not None:
            verdict = ("Sync stopped before deleting (press d to confirm)", "warning")
        self.notify(
            finish_words(counters),
            title=verdict[0],
            severity=verdict[1],  # type: ignore[arg-type]
        )
        self.action_refresh_history()
        self.refresh_bindings()

    # ------------------------------------------------------------------ history
    def action_refresh_history(self) -> None:
        self._history_at = time.monotonic()
        self._load_history()

    @work(exclusive=True, group="history")
    async def _load_history(self) -> None:
        settings = getattr(self.feed, "settings", None) or self.app.session.es_settings()
        try:
            async with Cluster(settings) as cluster:
                jobs = await cluster.list_jobs(self.feed.connector_id, size=20)
        except Exception as exc:
            self.post_message(HistoryLoaded([], f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(HistoryLoaded(jobs))

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        table = self.query_one("#history", DataTable)
        table.clear()
        if message.error:
            table.add_row("—", "—", "—", _short(message.error, 40), "", "", "")
            return
        for job in message.jobs:
            started = job.started_at or job.created_at
            end = job.completed_at or job.canceled_at
            duration = clock((end - started).total_seconds()) if (started and end) else "—"
            table.add_row(
                started.strftime("%Y-%m-%d %H:%M") if started else "—",
                str(job.job_type or "?"),
                str(job.trigger_method or "?"),
                str(job.status or "?").upper(),
                f"{job.indexed_document_count:,}",
                f"{job.deleted_document_count:,}",
                duration,
                key=job.id,
            )

    @on(DataTable.RowSelected, "#failures")
    def _failure_details(self, event: DataTable.RowSelected) -> None:
        rows = self.feed.failures(200)
        index = event.cursor_row
        if 0 <= index < len(rows):
            row = rows[index]
            self.app.push_screen(
                DetailScreen(
                    f"Failed document {row.document}",
                    f"Time: {row.time}\nDocument id: {row.doc_id}\nOperation: {row.operation}"
                    f"\n\nReason:\n{row.reason}",
                )
            )

    # ------------------------------------------------------------------ cancel / leave
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        state = self._last
        if action == "confirm_deletions":
            return bool(state is not None and state.finished and state.deletion_guard)
        if action == "cancel_sync":
            return bool(
                self.feed.can_cancel
                and state is not None
                and not state.finished
                and not self._cancel_requested
            )
        return True

    def action_cancel_sync(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._cancel_requested = True
                self.feed.cancel()
                self.notify("Cancel requested: the sync stops after the current batch.")
                self.refresh_bindings()

        self.app.push_screen(
            ConfirmScreen(
                "Cancel this sync? Documents indexed so far stay; the job ends 'canceled'.",
                yes="Cancel the sync",
                no="Keep syncing",
            ),
            answered,
        )

    def action_confirm_deletions(self) -> None:
        state = self._last
        guard = state.deletion_guard if state is not None else None
        if guard is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._restart_confirmed(guard.stale)

        self.app.push_screen(
            ConfirmScreen(
                f"Delete the {guard.stale:,} documents the source no longer has "
                f"({guard.percent:.0f} % of the index)? Only if the source really lost them "
                "— a wrong path or permission makes it look the same.",
                yes=f"Sync and delete {guard.stale:,}",
                no="Keep them",
            ),
            answered,
        )

    @work(exclusive=True, group="confirm")
    async def _restart_confirmed(self, count: int) -> None:
        """Run the sync again (here, or as a new job for the service) with the
        confirmation, on a fresh dashboard."""
        try:
            feed = await self.feed.confirmed(count)
        except Exception as exc:
            self.notify(f"Could not start the sync: {exc}", severity="error")
            return
        self.app.switch_screen(DashboardScreen(feed, on_leave=self._leave_callback))

    def action_explain(self) -> None:
        """Why this sync's job (or its connector, before it has one) is not progressing."""
        state = self._last
        target = (state.job_id if state is not None else None) or self.feed.connector_id
        settings = getattr(self.feed, "settings", None) or self.app.session.es_settings()
        session = getattr(self.app, "session", None)
        config_path = getattr(session, "config_path", None)
        self.app.push_screen(ExplainScreen(settings, target, config_path=config_path))

    def action_export_failures(self) -> None:
        """The job's failure log as CSV in the current folder (for a spreadsheet or a ticket)."""
        state = self._last
        job_id = state.job_id if state is not None else None
        if not job_id:
            self.notify("No job yet: nothing to export.", severity="warning")
            return
        destination = Path.cwd() / f"sluice-failures-{job_id}.csv"
        try:
            count = export_job_failures(job_id, destination)
        except OSError as exc:
            self.notify(f"Cannot write {destination}: {exc.strerror}", severity="error")
            return
        if count is None:
            self.notify("No failure recorded for this job on this machine.")
        else:
            self.notify(f"{count} failure(s) exported to {destination}")

    def action_leave(self) -> None:
        state = self._last
        running_here = getattr(self.feed, "run", None) is not None
        if state is not None and not state.finished and running_here:
            self.notify(
                "The sync is still running here: cancel it first (c), or wait.",
                severity="warning",
            )
            return
        if self._leave_callback is not None:
            self._leave_callback()
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            self.app.exit(0)

    def _on_stop_signal(self) -> None:
        """SIGHUP/SIGTERM: suspend (resumable), let the engine finish, then exit."""
        self.feed.suspend()
        self.set_interval(0.2, self._exit_when_finished)

    def _exit_when_finished(self) -> None:
        state = self.feed.poll()
        if state.finished or getattr(self.feed, "run", None) is None:
            self.app.exit(0)

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand(
                "Cancel the sync",
                "Ask the sync to stop (with confirmation)",
                self.action_cancel_sync,
            ),
            PaletteCommand(
                "Refresh job history",
                "Read the connector's jobs again",
                self.action_refresh_history,
            ),
            PaletteCommand(
                "Show failures",
                "Open the failures tab",
                lambda: setattr(self.query_one(TabbedContent), "active", "tab-failures"),
            ),
            PaletteCommand(
                "Show log",
                "Open the log tab",
                lambda: setattr(self.query_one(TabbedContent), "active", "tab-log"),
            ),
        ]


def _short_start(text: str, width: int) -> str:
    """Cut from the start: the end of a path (the file name) is what tells files apart."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else "…" + text[len(text) - width + 1 :]


def _short(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def finish_words(counters: Counters) -> str:
    """The end-of-sync line: what changed, updates included (a second full sync of the same
    folder updates every document and indexes none; "0 indexed" alone read as nothing done)."""
    parts = [f"{counters.indexed:,} new"]
    if counters.updated:
        parts.append(f"{counters.updated:,} updated")
    if counters.unchanged:
        parts.append(f"{counters.unchanged:,} unchanged")
    if counters.skipped:
        parts.append(f"{counters.skipped:,} skipped")
    parts += [f"{counters.deleted:,} deleted", f"{counters.failed:,} failed"]
    return ", ".join(parts) + "."
