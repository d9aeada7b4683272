"""Step 7: a summary of the setup, then "Start sync" here (the engine in a thread worker)
or "Hand to service" (a pending job that a running `sluice run` picks up)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Select, Static

from sluice.core.invocation import sluice_command
from sluice.core.protocol import SyncJob
from sluice.core.secrets import mask
from sluice.tui.screens.steps.base import Step
from sluice.tui.widgets.field_status import FieldStatus
from sluice.tui.widgets.summary import Summary

JOB_TYPES = [("Full sync", "full"), ("Incremental sync", "incremental")]
#: The job-type choice offered when the connector has an interrupted job to continue.
RESUME, RESUME_LABEL = "resume", "Resume the sync"


class ReviewStep(Step):
    TITLE = "7. Review & sync"
    HELP = "Everything is saved. Start a first sync here, or let the service run it."
    BINDINGS = [Binding("ctrl+s", "start_sync", "Start sync")]
    LOCAL_TIP = (
        "Start sync runs here and stops with this terminal (it is then suspended and "
        "resumes later). For long syncs, hand it to the service "
        f"(`{sluice_command()} run -c config.yml`, e.g. under systemd) or run "
        "Sluice inside tmux/screen."
    )
    #: The connector's suspended (or silent) job, when there is one to resume.
    _resumable: SyncJob | None = None

    #: Unscoped: the narrow layout keys on the screen's breakpoint class.
    SCOPED_CSS = False
    DEFAULT_CSS = """
    ReviewStep #sync-actions { height: auto; margin-top: 1; }
    ReviewStep #sync-actions > Button { margin-right: 1; min-width: 0; padding: 0 1; }
    ReviewStep #sync-actions > Select { width: 20; margin-right: 1; }
    Screen.-narrow ReviewStep #sync-actions {
        layout: grid; grid-size: 2; grid-rows: 1; grid-gutter: 0 1; height: 2;
    }
    Screen.-narrow ReviewStep #sync-actions > * { width: 1fr; margin-right: 0; }
    ReviewStep #review-tip { color: $text-muted; margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        yield from self.compose_intro()
        yield Summary(id="summary")
        with Horizontal(id="sync-actions"):
            yield Select(JOB_TYPES, value="full", allow_blank=False, id="job-type", compact=True)
            yield Button("Start sync", id="start-sync", variant="success", compact=True)
            yield Button(
                "Preview",
                id="preview",
                compact=True,
                tooltip="A dry run: what the sync would write, skip and delete — nothing written",
            )
            yield Button(
                "Hand to service",
                id="hand-over",
                compact=True,
                tooltip=f"Queue a pending job that a running `{sluice_command()} run` picks up",
            )
        yield FieldStatus(id="review-status")
        yield Static(self.LOCAL_TIP, id="review-tip")

    def on_enter(self) -> None:
        state, session = self.session.state, self.session
        elastic = session.run_by_elastic
        self.query_one("#hand-over").display = not elastic
        self.query_one("#preview").display = not elastic  # Sluice's engine previews
        self.query_one("#review-tip", Static).update(
            "Start sync queues a job that Elastic's connector service claims and runs; the "
            "dashboard follows its record live (counts, rate, errors) and Cancel asks the "
            "service to stop."
            if elastic
            else self.LOCAL_TIP
        )
        auth = {"api_key": "API key", "basic": f"user {state.es_username}", "none": "none"}[
            state.es_auth
        ]
        rows = [
            ("Source", state.service_type or "—"),
            (
                "Run by",
                "Elastic's connector service" if elastic else "Sluice (here, or `sluice run`)",
            ),
            (
                "Elasticsearch",
                state.es_host + ("  (sandbox — NOT FOR PRODUCTION)" if state.sandbox else ""),
            ),
            (
                "Authentication",
                auth + (f" {mask(session.es_api_key)}" if state.es_auth == "api_key" else ""),
            ),
            ("Connector", f"{state.connector_name} ({state.connector_id or 'not created'})"),
            ("config.yml", state.config_path + ("" if state.config_written else " (not written)")),
            (
                "Secrets in",
                {
                    "keyring": "OS keyring",
                    "env": "environment variable",
                    "file": "config.yml (0600)",
                }[state.secret_placement]
                if state.es_auth != "none" or state.scoped_key
                else "none to store (no authentication)",
            ),
            ("Index", state.index_name or "—"),
            ("Connector API key", "yes" if state.scoped_key else "no (step 2 credentials)"),
        ]
        self.query_one("#summary", Summary).set_rows(rows)
        self._look_for_resumable_job()

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

    # ------------------------------------------------------------ an interrupted job
    @work(exclusive=True, group="resumable", exit_on_error=False)
    async def _look_for_resumable_job(self) -> None:
        """A sync of this connector suspended (a closed terminal, a stopped service) or left
        by a worker that went silent: offer to resume *that* job rather than a new one."""
        connector_id = self.session.state.connector_id
        if not connector_id:
            return
        try:
            async with self.session.cluster() as cluster:
                job = await cluster.resumable_job(connector_id)
        except Exception:
            return  # the offer is a convenience: the cluster checks report what is wrong
        if not self.is_attached:
            return  # the app closed while the cluster answered
        self._resumable = job
        select = self.query_one("#job-type", Select)
        if job is None:
            select.set_options(JOB_TYPES)
            select.value = "full"
            return
        select.set_options([(RESUME_LABEL, RESUME), *JOB_TYPES])
        select.value = RESUME
        was = (
            "suspended"
            if job.status.value == "suspended"
            else "left running by a worker that stopped"
        )
        self.query_one("#review-status", FieldStatus).show(
            "warn",
            f"a {job.job_type.value} sync of this connector was {was} "
            f"({job.indexed_document_count:,} indexed; job {job.id}). "
            f"'{RESUME_LABEL}' continues it; a new sync cancels it.",
        )

    def _interrupted_job_id(self) -> str | None:
        return self._resumable.id if self._resumable is not None else None

    def action_start_sync(self) -> None:
        if not self.query_one("#start-sync", Button).disabled:
            self.start_sync()

    @on(Button.Pressed, "#start-sync")
    def start_sync(self) -> None:
        blocker = self.blocker()
        if blocker:
            self.notify(blocker, severity="warning")
            return
        if self.session.run_by_elastic:  # Elastic's service runs it: queue the job for it
            self.query_one("#review-status", FieldStatus).show("running", "queuing the job…")
            self._queue_job(self.job_type)
            return
        self._start_local_sync(self.job_type)

    @work(exclusive=True, group="start-sync")
    async def _start_local_sync(self, job_type: str) -> None:
        from sluice.core.workflows.local_sync import LocalSync  # the engine: not at start-up
        from sluice.sources.registry import create_source
        from sluice.tui.feeds import LocalSyncFeed
        from sluice.tui.screens.dashboard import DashboardScreen

        state = self.session.state
        interrupted = self._interrupted_job_id()
        resume = job_type == RESUME and interrupted is not None
        if interrupted is not None and not resume and not await self._discard(interrupted):
            return
        run = LocalSync(
            self.session.es_settings(),
            state.connector_id or "",
            job_type="full" if job_type == RESUME else job_type,
            source_factory=create_source,
            resume_job_id=interrupted if resume else None,
            config_path=state.config_path or None,
        )
        self._resumable = None
        self.app.push_screen(DashboardScreen(LocalSyncFeed(run, self._title())))

    async def _discard(self, job_id: str) -> bool:
        status = self.query_one("#review-status", FieldStatus)
        try:
            async with self.session.cluster() as cluster:
                await cluster.discard_job(job_id)
        except Exception as exc:
            status.show("fail", f"could not cancel the interrupted job {job_id}: {exc}")
            return False
        self._resumable = None
        return True

    @on(Button.Pressed, "#preview")
    def preview(self) -> None:
        """A dry run of the sync (`sluice sync ID --dry-run`), in a modal."""
        from sluice.tui.screens.preview import PreviewScreen

        blocker = self.blocker()
        if blocker:
            self.notify(blocker, severity="warning")
            return
        state = self.session.state
        self.app.push_screen(
            PreviewScreen(
                self.session.es_settings(),
                state.connector_id or "",
                config_path=state.config_path or None,
            )
        )

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
        from sluice.tui.feeds import ServiceJobFeed
        from sluice.tui.screens.dashboard import DashboardScreen

        state = self.session.state
        status = self.query_one("#review-status", FieldStatus)
        interrupted = self._interrupted_job_id()
        try:
            if job_type == RESUME and interrupted is not None:
                async with self.session.cluster() as cluster:  # the service claims it
                    job_id = await cluster.make_resumable(interrupted)  # like a pending job
            else:
                if interrupted is not None and not await self._discard(interrupted):
                    return
                async with self.session.cluster() as cluster:
                    job_id = await cluster.create_job(state.connector_id or "", job_type)
        except Exception as exc:
            status.show("fail", f"could not queue the job: {exc}")
            return
        state.last_job_id = job_id
        self.session.save()
        runner = self.session.runner
        who = (
            "Elastic's connector service"
            if runner == "elastic"
            else f"a running `{sluice_command()} run`"
        )
        status.show("ok", f"job {job_id} is pending: {who} picks it up")
        feed = ServiceJobFeed(
            self.session.es_settings(),
            state.connector_id or "",
            job_id,
            self._title(),
            runner=runner,
        )
        self.app.push_screen(DashboardScreen(feed))

    def palette_commands(self) -> list:
        from sluice.tui.commands import PaletteCommand

        return [
            PaletteCommand(
                "Start sync", "Run a sync here, with the live dashboard", self.start_sync
            ),
            PaletteCommand("Preview the sync", "A dry run: nothing is written", self.preview),
            PaletteCommand(
                "Hand it to the service",
                f"Queue a pending job for `{sluice_command()} run`",
                self.hand_over,
            ),
        ]
