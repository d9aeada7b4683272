"""A sync run by this process for an interactive front end: the engine on its own event loop
(call `run()` in a thread), a progress board to poll, and cancel/suspend events the engine
watches. Sources are the caller's (`source_factory`): core never imports `sources`."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sluice.core.config import Config, ConfigError, load_config
from sluice.core.engine import runner
from sluice.core.engine.deletion_guard import GuardTrip
from sluice.core.engine.progress import ProgressBoard
from sluice.core.engine.reconcile import Reconciliation
from sluice.core.engine.settings import EngineSettings
from sluice.core.workflows.job_failures import FailureRow, rows_of
from sluice.core.workflows.sync_reading import SyncReading, empty_snapshot


class LocalSync:
    """One sync of a connector run here, read with `reading()` from any thread."""

    def __init__(
        self,
        settings: dict[str, Any],
        connector_id: str,
        job_type: str = "full",
        *,
        source_factory: Callable[..., Any],
        resume_job_id: str | None = None,
        config_path: str | Path | None = None,
        confirm_deletions: int | None = None,
    ) -> None:
        self.settings = dict(settings)
        self.connector_id = connector_id
        self.job_type = job_type
        #: `create_source(service_type, configuration, extra=…)` of the sources layer.
        self.source_factory = source_factory
        #: Continue this suspended job instead of starting a new one.
        self.resume_job_id = resume_job_id
        #: config.yml whose `sources:` map and `elasticsearch.bulk` settings the engine uses,
        #: as `sluice run` and `sluice sync` do.
        self.config_path = config_path
        #: The user accepted deleting up to this many documents (the deletion guard).
        self.confirm_deletions = confirm_deletions
        self.reconciliation: Reconciliation | None = None
        self.deletion_guard: GuardTrip | None = None
        self.board = ProgressBoard()
        self.cancel_event = threading.Event()
        self.suspend_event = threading.Event()
        self.job_id: str | None = None
        self.error: str | None = None
        self.status: str = "starting"
        self.done = False  # the job record is written too, not just the engine finished

    def run(self) -> None:
        """Blocking: run the whole job (record it, sync, finish it). Never raises."""
        try:
            asyncio.run(self._main())
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.status = "error"
        finally:
            self.done = True

    async def _main(self) -> None:
        config = self._config()
        result = await runner.run_connector_sync(
            self.settings,
            self.connector_id,
            source_factory=functools.partial(
                self.source_factory, extra=config.custom_sources if config is not None else {}
            ),
            job_type=self.job_type,
            listener=self.board,
            cancel_event=self.cancel_event,
            suspend_event=self.suspend_event,
            on_job=self._on_job,
            resume_job_id=self.resume_job_id,
            settings=self.engine_settings(config),
            confirm_deletions=self.confirm_deletions,
        )
        self.reconciliation = getattr(result, "reconciliation", None)
        self.deletion_guard = getattr(result, "deletion_guard", None)
        self.status = str(getattr(result, "status", "completed"))
        self.error = getattr(result, "error", None)
        # The job record holds the outcome now: show it without waiting for the loop's
        # shutdown (worker threads of a busy walk finish on their own).
        self.done = True

    def _on_job(self, job_id: str) -> None:
        self.job_id = job_id

    def _config(self) -> Config | None:
        """config.yml as `sluice sync` reads it, or None (no file, or a broken one: the
        wizard's checks report it, and the sync runs with the defaults)."""
        if not self.config_path or not Path(self.config_path).exists():
            return None
        try:
            return load_config(self.config_path, resolve_secrets=False)
        except ConfigError:
            return None

    def engine_settings(self, config: Config | None = None) -> EngineSettings:
        return EngineSettings.from_config(config if config is not None else self._config())

    def cancel(self) -> None:
        self.cancel_event.set()

    def suspend(self) -> None:
        self.suspend_event.set()
        self.cancel_event.set()

    def reading(self) -> SyncReading:
        """The engine's latest snapshot with the run's status. The outcome shows once the job
        record holds it too: quitting at "canceled" must never leave it `in_progress`."""
        snapshot = self.board.snapshot
        board_finished = self.board.finished
        finished = board_finished if self.done else None
        status = self.status  # the runner's final word once done
        if not self.done and board_finished is not None:
            status = "finishing"  # writing the job record
        elif self.error is None and status == "starting" and snapshot is not None:
            status = "running"
        if self.cancel_event.is_set() and finished is None and self.error is None:
            status = "suspending" if self.suspend_event.is_set() else "canceling"
        if snapshot is None:
            return SyncReading(status, empty_snapshot(), self.job_id, self.error)
        error = (finished.error if finished else None) or snapshot.last_error or self.error
        if not self.done:
            return SyncReading(status, snapshot, self.job_id, error)
        return SyncReading(
            status, snapshot, self.job_id, error, self.reconciliation, self.deletion_guard
        )

    def again(self, confirm_deletions: int | None = None) -> LocalSync:
        """A new run of the same sync (after the deletion guard stopped this one)."""
        return LocalSync(
            self.settings,
            self.connector_id,
            self.job_type,
            source_factory=self.source_factory,
            config_path=self.config_path,
            confirm_deletions=confirm_deletions,
        )

    def failures(self, limit: int = 200) -> list[FailureRow]:
        return rows_of(self.board.failures(), limit)
