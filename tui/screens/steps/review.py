"""Step 7: a summary of the setup, then "Start sync" here (the engine in a thread worker)
or "Hand it to the service" (a pending job that a running `sluice run` picks up)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Select, Static

from tui import services
from tui.feeds import LocalSyncFeed, ServiceJobFeed
from tui.screens.steps.base import Step
from tui.widgets.field_status import FieldStatus

JOB_TYPES = [("Full sync", "full"), ("Incremental sync", "incremental")]


class ReviewStep(Step):
    TITLE = "7. Review & sync"
    HELP = "Everything is saved. Start a first sync here, or let the service run it."

    DEFAULT_CSS = """
    ReviewStep #summary { height: auto; max-height: 12; }
    ReviewStep #sync-actions { height: auto; margin-top: 1; }
    ReviewStep #sync-actions > Button { margin-right: 2; }
    ReviewStep #sync-actions > Select { width: 24; margin-right: 2; }
    ReviewStep #review-tip { color: $text-muted; margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        yield from self.compose_intro()
        yield DataTable(id="summary", show_header=False, cursor_type="none", zebra_stripes=True)
        with Horizontal(id="sync-actions"):
            yield Select(JOB_TYPES, value="full", allow_blank=False, id="job-type", compact=True)
            yield Button("Start sync", id="start-sync", variant="success", compact=True)
            yield Button("Hand it to the service", id="hand-over", compact=True)
        yield FieldStatus(id="review-status")
        yield Static(
            "Start sync runs here and stops with this terminal (it is then suspended and "
            "resumes later). For long syncs, hand it to the service (`sluice run -c "
            "config.yml`, e.g. under systemd) or run Sluice inside tmux/screen.",
            id="review-tip",
        )

    def on_mount(self) -> None:
        self.query_one("#summary", DataTable).add_columns("What", "Value")
        if not services.engine_available():
            button = self.query_one("#start-sync", Button)
            button.disabled = True
            button.tooltip = "The sync engine is not installed in this build"
            self.query_one("#review-status", FieldStatus).show(
                "warn",
                "this build has no sync engine: hand the job to the service instead",
            )

    def on_enter(self) -> None:
        state, session = self.session.state, self.session
        table = self.query_one("#summary", DataTable)
        table.clear()
        auth = {"api_key": "API key", "basic": f"user {state.es_username}", "none": "none"}[
            state.es_auth
        ]
        rows = [
            ("Source", state.service_type or "—"),
            (
                "Elasticsearch",
                state.es_host + ("  (sandbox — NOT FOR PRODUCTION)" if state.sandbox else ""),
            ),
            (
                "Authentication",
                auth
                + (f" {services.mask(session.es_api_key)}" if state.es_auth == "api_key" else ""),
            ),
            ("Connector", f"{state.connector_name} ({state.connector_id or 'not created'})"),
            ("config.yml", state.config_path + ("" if state.config_written else " (not written)")),
            (
                "Secrets in",
                {
                    "keyring": "OS keyring",
                    "env": "environment variable",
                    "file": "config.yml (0600)",
                }[state.secret_placement],
            ),
            ("Index", state.index_name or "—"),
            ("Connector API key", "yes" if state.scoped_key else "no (step 2 credentials)"),
        ]
        for what, value in rows:
            table.add_row(what, value)

    def blocker(self) -> str | None:
        missing = [i + 1 for i in range(6) if not self.session.state.is_done(i)]
        if missing:
            return f"Finish step(s) {', '.join(map(str, missing))} first."
        return None

    def _title(self) -> str:
        state = self.session.state
        return f"{state.connector_name or state.connector_id} → {state.index_name}"

    @property
    def job_type(self) -> str:
        value = self.query_one("#job-type", Select).value
        return "full" if value is Select.NULL else str(value)

    @on(Button.Pressed, "#start-sync")
    def start_sync(self) -> None:
        if not services.engine_available():
            self.notify("This build has no sync engine.", severity="warning")
            return
        blocker = self.blocker()
        if blocker:
            self.notify(blocker, severity="warning")
            return
        from tui.screens.dashboard import DashboardScreen

        state = self.session.state
        run = services.LocalSync(
            self.session.es_settings(), state.connector_id or "", job_type=self.job_type
        )
        self.app.push_screen(DashboardScreen(LocalSyncFeed(run, self._title())))

    @on(Button.Pressed, "#hand-over")
    def hand_over(self) -> None:
        blocker = self.blocker()
        if blocker:
            self.notify(blocker, severity="warning")
            return
        self.query_one("#review-status", FieldStatus).show("running", "queuing the job…")
        self._queue_job(self.job_type)

    @work(exclusive=True, group="queue-job")
    async def _queue_job(self, job_type: str) -> None:
        from tui.screens.dashboard import DashboardScreen

        state = self.session.state
        status = self.query_one("#review-status", FieldStatus)
        try:
            async with self.session.cluster() as cluster:
                job_id = await cluster.create_job(state.connector_id or "", job_type)
        except Exception as exc:
            status.show("fail", f"could not queue the job: {exc}")
            return
        state.last_job_id = job_id
        self.session.save()
        status.show("ok", f"job {job_id} is pending: a running `sluice run` picks it up")
        feed = ServiceJobFeed(
            self.session.es_settings(),
            state.connector_id or "",
            job_id,
            self._title() + " (service)",
        )
        self.app.push_screen(DashboardScreen(feed))

    def palette_commands(self) -> list:
        from tui.commands import PaletteCommand

        return [
            PaletteCommand(
                "Start sync", "Run a sync here, with the live dashboard", self.start_sync
            ),
            PaletteCommand(
                "Hand it to the service", "Queue a pending job for `sluice run`", self.hand_over
            ),
        ]
