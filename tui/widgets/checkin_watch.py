"""Watches a connector record until a service checks in, and explains a silence.

Polls the record (one connection for the widget's life) and posts `CheckinWatch.Read` with
each reading, so the step decides what to show; after `DOCTOR_AFTER` seconds of silence (or
on "Why no check-in?") it runs the service doctor and lists the likely causes in order.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, Static

from sluice.core.checks.service_doctor import SilenceInputs, diagnose_silence
from sluice.core.protocol.checkin import CheckinPhase, CheckinReading, read_checkin
from sluice.tui.widgets.badges import escape
from sluice.tui.widgets.check_list import CheckList, CheckView

POLL_SECONDS = 2.0
#: Silence this long brings the doctor up by itself.
DOCTOR_AFTER = 8.0
DOCTOR_CHECKS = [
    ("heartbeat", "Service heartbeat"),
    ("config", "config.yml names this connector"),
    ("service_type", "Service type"),
    ("reach", "Elasticsearch from the service"),
    ("credentials", "The service's credentials"),
    ("version", "Service version"),
    ("log", "The service's log"),
]

PHASE_WORDS = {
    CheckinPhase.MISSING: "the connector record is gone",
    CheckinPhase.WAITING: "waiting for Elastic's connector service to check in…",
    CheckinPhase.NEEDS_CONFIGURATION: "checked in — it wrote the source's settings below",
    CheckinPhase.CONFIGURED: "settings saved — the service is validating them…",
    CheckinPhase.CONNECTED: "connected — the service reached the source",
    CheckinPhase.ERROR: "the service reports an error",
}


class CheckinWatch(Vertical):
    """Status line, Deploy / Why buttons, and the doctor's list."""

    DEFAULT_CSS = """
    CheckinWatch { height: auto; border: round $primary 50%; padding: 0 1; margin-bottom: 1; }
    CheckinWatch #checkin-line { height: auto; }
    CheckinWatch #checkin-actions { height: auto; margin-top: 1; }
    CheckinWatch #checkin-actions > Button { margin-right: 2; }
    CheckinWatch #checkin-doctor { display: none; }
    CheckinWatch.-doctor #checkin-doctor { display: block; }
    """

    class Read(Message):
        """One reading of the record (`connector` may be None: gone)."""

        def __init__(self, reading: CheckinReading, connector: Any) -> None:
            self.reading = reading
            self.connector = connector
            super().__init__()

    class DoctorResult(Message):
        def __init__(self, view: CheckView) -> None:
            self.view = view
            super().__init__()

    class DeployRequested(Message):
        """The user pressed Deploy…: the step opens the Deploy view."""

    def __init__(self, session, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session = session
        self.reading: CheckinReading | None = None
        self.connector: Any = None
        self._timer: Timer | None = None
        self._since: float | None = None  # when the current silence started
        self._doctor_ran = False
        self._cluster: Any = None

    def compose(self) -> ComposeResult:
        yield Static("Looking at the connector record…", id="checkin-line")
        with Horizontal(id="checkin-actions"):
            yield Button("Deploy…", id="checkin-deploy", compact=True)
            yield Button("Why no check-in?", id="checkin-why", compact=True)
        yield CheckList(id="checkin-doctor", empty="The doctor runs in a moment…")

    # ------------------------------------------------------------------ polling
    def start(self) -> None:
        """Poll now and every POLL_SECONDS until `stop()`."""
        if self._timer is None:
            self._timer = self.set_interval(POLL_SECONDS, self._poll)
        self._poll()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    async def on_unmount(self) -> None:
        self.stop()
        if self._cluster is not None:
            await self._cluster.close()
            self._cluster = None

    def _poll(self) -> None:
        self._read()

    @work(exclusive=True, group="checkin-read")
    async def _read(self) -> None:
        connector_id = self.session.state.connector_id
        if not connector_id:
            return
        try:
            if self._cluster is None:
                self._cluster = self.session.cluster()
            connector = await self._cluster.get_connector(connector_id)
        except Exception as exc:
            line = self.query_one("#checkin-line", Static)
            line.update(f"[b]Cannot read the record:[/b] {escape(f'{type(exc).__name__}: {exc}')}")
            if self._cluster is not None:
                await self._cluster.close()
                self._cluster = None  # a fresh connection on the next poll
            return
        self.post_message(CheckinWatch.Read(read_checkin(connector), connector))

    @on(Read)
    def _show(self, message: Read) -> None:
        self.reading, self.connector = message.reading, message.connector
        reading = message.reading
        words = PHASE_WORDS[reading.phase]
        line = f"[b]{escape(words)}[/b]  [dim]status {reading.status or '—'} · last seen "
        line += f"{reading.last_seen_words()}[/dim]"
        if reading.phase is CheckinPhase.ERROR and reading.error:
            line += f"\n{escape(reading.error)}"
        self.query_one("#checkin-line", Static).update(line)
        waiting = reading.phase in (CheckinPhase.WAITING, CheckinPhase.MISSING)
        self.query_one("#checkin-why").display = waiting
        if not waiting:
            self._since = None
            self.remove_class("-doctor")
            return
        now = time.monotonic()
        if self._since is None:
            self._since = now
        if not self._doctor_ran and now - self._since >= DOCTOR_AFTER:
            self.run_doctor()

    # ------------------------------------------------------------------ doctor
    @on(Button.Pressed, "#checkin-why")
    def _why(self, event: Button.Pressed) -> None:
        event.stop()
        self.run_doctor()

    @on(Button.Pressed, "#checkin-deploy")
    def _deploy(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(CheckinWatch.DeployRequested())

    def run_doctor(self) -> None:
        self._doctor_ran = True
        self.add_class("-doctor")
        self.query_one(CheckList).begin(DOCTOR_CHECKS)
        self._doctor()

    def doctor_inputs(self) -> SilenceInputs:
        from sluice.sources.registry import types_run_by

        state = self.session.state
        runnable = types_run_by("elastic" if self.session.run_by_elastic else "sluice")
        return SilenceInputs(
            config_path=Path(state.config_path or self.session.config_path),
            connector=self.connector,
            connector_id=state.connector_id or "",
            target=state.deploy_target or ("docker" if self.session.run_by_elastic else "sluice"),
            service_version=state.service_version or None,
            environ={**os.environ, **self.session.secret_environment()},
            runnable_types=frozenset(runnable),
        )

    @work(exclusive=True, group="checkin-doctor")
    async def _doctor(self) -> None:
        for result in await diagnose_silence(self.doctor_inputs()):
            self.post_message(CheckinWatch.DoctorResult(CheckView.from_result(result)))

    @on(DoctorResult)
    def _doctor_result(self, message: DoctorResult) -> None:
        self.query_one(CheckList).record(message.view)
