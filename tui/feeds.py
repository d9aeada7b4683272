"""TUI glue only: what the dashboard watches, wrapped in Textual workers and timers.

A sync run here (core's `LocalSync`, in a thread worker) or a job run by the service (core's
`JobWatcher`, read every few seconds with one client for the screen's life). Both answer
`poll()` with core's `SyncReading` — the engine's snapshot unchanged — cheap enough for a
timer: the dashboard polls; nothing floods it with one message per document. No rule and no
number is computed here.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any, Protocol

from sluice.core.engine.progress import Phase
from sluice.core.workflows.job_failures import FailureRow, failure_rows
from sluice.core.workflows.job_watcher import JobWatcher
from sluice.core.workflows.local_sync import LocalSync
from sluice.core.workflows.sync_reading import SyncReading, empty_snapshot


class SyncFeed(Protocol):
    title: str
    connector_id: str
    can_cancel: bool

    def start(self, screen: Any) -> None: ...
    def poll(self) -> SyncReading: ...
    def cancel(self) -> None: ...
    def suspend(self) -> None: ...
    def failures(self, limit: int = 200) -> list[FailureRow]: ...
    def new_log_lines(self) -> list[str]: ...
    async def close(self) -> None: ...
    async def confirmed(self, count: int) -> SyncFeed: ...


class LogTail(logging.Handler):
    """Keeps the last lines of Sluice's log records for the dashboard (thread-safe)."""

    def __init__(self, capacity: int = 500) -> None:
        super().__init__(level=logging.INFO)
        self._lines: collections.deque[str] = collections.deque(maxlen=capacity)
        self._lock = threading.Lock()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            return
        with self._lock:
            self._lines.append(line)

    def drain(self) -> list[str]:
        with self._lock:
            lines = list(self._lines)
            self._lines.clear()
        return lines


class LocalSyncFeed:
    """A sync run by this process: the engine on its own event loop in a thread worker."""

    can_cancel = True

    def __init__(self, run: LocalSync, title: str) -> None:
        self.run = run
        self.title = title
        self.connector_id = run.connector_id
        self._tail = LogTail()
        self._logger = logging.getLogger("sluice")

    def start(self, screen: Any) -> None:
        self._logger.addHandler(self._tail)
        if self._logger.level == logging.NOTSET or self._logger.level > logging.INFO:
            self._logger.setLevel(logging.INFO)
        screen.run_worker(
            self._run, thread=True, name="sync-engine", group="sync", exit_on_error=False
        )

    def _run(self) -> None:
        try:
            self.run.run()
        finally:
            self._logger.removeHandler(self._tail)

    def poll(self) -> SyncReading:
        return self.run.reading()

    def cancel(self) -> None:
        self.run.cancel()

    def suspend(self) -> None:
        self.run.suspend()

    def failures(self, limit: int = 200) -> list[FailureRow]:
        return self.run.failures(limit)

    def new_log_lines(self) -> list[str]:
        return self._tail.drain()

    async def close(self) -> None:
        """The run owns its client and closes it when it ends."""

    async def confirmed(self, count: int) -> LocalSyncFeed:
        """The same sync again, allowed to delete up to `count` documents."""
        return LocalSyncFeed(self.run.again(confirm_deletions=count), self.title)


class ServiceJobFeed:
    """A job handed to the service (`sluice run`): its record read every few seconds by one
    `JobWatcher` (one client), closed when the dashboard leaves."""

    can_cancel = True
    REFRESH_SECONDS = 2.0

    def __init__(
        self, settings: dict, connector_id: str, job_id: str, title: str, runner: str = "sluice"
    ) -> None:
        self.settings = settings
        self.connector_id = connector_id
        self.job_id = job_id
        #: who runs it, said plainly on the dashboard
        self.runner_words = (
            "Elastic's connector service" if runner == "elastic" else "Sluice's service"
        )
        self._base_title = title
        self.title = f"{title} — run by {self.runner_words}"
        self.tip = (
            f"Run by {self.runner_words}: this screen only watches the job record; closing "
            "it (or this terminal) changes nothing there. Cancel asks the service to stop."
        )
        self.watcher = JobWatcher(settings, job_id)
        self._reading = SyncReading("pending", empty_snapshot(Phase.WAITING), job_id)
        self._log: list[str] = [
            f"{time.strftime('%H:%M:%S')} job {job_id} queued (pending) for {self.runner_words}"
        ]
        self._screen: Any = None

    def start(self, screen: Any) -> None:
        self._screen = screen
        screen.set_interval(self.REFRESH_SECONDS, self._refresh)
        self._refresh()

    def _refresh(self) -> None:
        if self._screen is not None and not self._reading.finished:
            self._screen.run_worker(
                self._read(), group="job-read", exclusive=True, exit_on_error=False
            )

    async def _read(self) -> None:
        try:
            reading = await self.watcher.read()
        except Exception as exc:
            self._note(f"could not read the job: {exc}")
            return
        if reading is None:
            return
        if reading.status != self._reading.status:
            error = reading.snapshot.last_error
            self._note(f"job is now {reading.status}" + (f": {error}" if error else ""))
        self._reading = reading

    def _note(self, text: str) -> None:
        self._log.append(f"{time.strftime('%H:%M:%S')} {text}")

    def poll(self) -> SyncReading:
        return self._reading

    def cancel(self) -> None:
        if self._screen is not None:
            self._screen.run_worker(self._cancel(), group="job-cancel", exit_on_error=False)

    async def _cancel(self) -> None:
        await self.watcher.cancel()
        self._note("cancel requested")

    def suspend(self) -> None:
        """The service owns the job: leaving this screen changes nothing there."""

    def failures(self, limit: int = 200) -> list[FailureRow]:
        return failure_rows(self.job_id, limit)

    def new_log_lines(self) -> list[str]:
        lines, self._log = self._log, []
        return lines

    async def close(self) -> None:
        await self.watcher.close()

    async def confirmed(self, count: int) -> ServiceJobFeed:
        """A new job for the service, allowed to delete up to `count` documents."""
        job_id = await self.watcher.confirm_deletions(count)
        feed = ServiceJobFeed(self.settings, self.connector_id, job_id, self._base_title)
        feed.runner_words, feed.title, feed.tip = self.runner_words, self.title, self.tip
        return feed
