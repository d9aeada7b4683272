"""What the dashboard watches: a sync run here (the engine in a thread) or a job run by the
service (its record in Elasticsearch). Both answer `poll()` with the same `FeedState`, cheap
enough for a timer — the dashboard polls; nothing floods it with one message per document.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sluice.tui import services

FINISHED = frozenset({"completed", "error", "canceled", "suspended"})


@dataclass(frozen=True)
class FeedState:
    """One reading of a sync, for display."""

    status: str = "starting"
    phase: str = "starting"
    extracted: int = 0
    indexed: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    failed: int = 0
    bytes: int = 0
    docs_per_second: float = 0.0
    total: int | None = None
    eta_seconds: float | None = None
    elapsed: float = 0.0
    last_error: str | None = None
    job_id: str | None = None
    deleting: bool = False  # stale documents are being deleted: progress is theirs
    stale_done: int = 0
    stale_total: int | None = None
    stalled: str | None = None  # why nothing moves, while bulk requests are retried
    rate_is_average: bool = False  # docs_per_second is the whole sync's average
    notices: tuple[str, ...] = ()  # what the sync went on despite (a missing pipeline)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def in_deletion(self) -> bool:
        """Deleting stale documents right now (a finished sync shows its documents again)."""
        return self.deleting and not self.finished

    @property
    def progress(self) -> tuple[int, int | None]:
        """(done, total) of the current phase: documents read, then stale ones deleted."""
        if self.in_deletion:
            return self.stale_done, self.stale_total
        return self.extracted, self.total

    @property
    def fraction(self) -> float | None:
        """For the progress bar: 100 % only once completed; a canceled or failed sync stays
        where it stopped. None when the total is unknown."""
        if self.status == "completed":
            return 1.0
        done, total = self.progress
        if total is None:
            return None
        return min(done / total, 0.99) if total else 0.99


@dataclass(frozen=True)
class FailureRow:
    time: str
    doc_id: str
    operation: str
    reason: str
    name: str = ""  # a path or a title, when the source gave one

    @property
    def document(self) -> str:
        """What to show a person: the name, else the id."""
        return self.name or self.doc_id


class SyncFeed(Protocol):
    title: str
    connector_id: str
    can_cancel: bool

    def start(self, screen: Any) -> None: ...
    def poll(self) -> FeedState: ...
    def cancel(self) -> None: ...
    def suspend(self) -> None: ...
    def failures(self, limit: int = 200) -> list[FailureRow]: ...
    def new_log_lines(self) -> list[str]: ...


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

    def __init__(self, run: services.LocalSync, title: str) -> None:
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

    def poll(self) -> FeedState:
        return self.run.state()

    def cancel(self) -> None:
        self.run.cancel()

    def suspend(self) -> None:
        self.run.suspend()

    def failures(self, limit: int = 200) -> list[FailureRow]:
        return [FailureRow(*row) for row in self.run.failures(limit)]

    def new_log_lines(self) -> list[str]:
        return self._tail.drain()


@dataclass
class _JobReading:
    state: FeedState = field(default_factory=FeedState)
    first_seen: float = field(default_factory=time.monotonic)
    samples: collections.deque = field(default_factory=lambda: collections.deque(maxlen=10))


class ServiceJobFeed:
    """A job handed to the service (`sluice run`): its record is read every few seconds."""

    can_cancel = True
    REFRESH_SECONDS = 2.0

    def __init__(self, settings: dict, connector_id: str, job_id: str, title: str) -> None:
        self.settings = settings
        self.connector_id = connector_id
        self.job_id = job_id
        self.title = title
        self._reading = _JobReading(
            FeedState(status="pending", phase="waiting for the service", job_id=job_id)
        )
        self._log: list[str] = [f"{time.strftime('%H:%M:%S')} job {job_id} queued (pending)"]
        self._last_status = "pending"
        self._screen: Any = None

    def start(self, screen: Any) -> None:
        self._screen = screen
        screen.set_interval(self.REFRESH_SECONDS, self._refresh)
        self._refresh()

    def _refresh(self) -> None:
        if self._screen is not None and not self._reading.state.finished:
            self._screen.run_worker(
                self._read(), group="job-read", exclusive=True, exit_on_error=False
            )

    async def _read(self) -> None:
        try:
            async with services.Cluster(self.settings) as cluster:
                job = await cluster.get_job(self.job_id)
        except Exception as exc:
            self._log.append(f"{time.strftime('%H:%M:%S')} could not read the job: {exc}")
            return
        if job is None:
            return
        self._reading.state = self._state_of(job)

    def _state_of(self, job: Any) -> FeedState:
        status = str(job.status or "pending")
        if status != self._last_status:
            self._log.append(
                f"{time.strftime('%H:%M:%S')} job is now {status}"
                + (f": {job.error}" if job.error else "")
            )
            self._last_status = status
        indexed = int(job.indexed_document_count or 0)
        now = time.monotonic()
        samples = self._reading.samples
        samples.append((now, indexed))
        rate = 0.0
        if len(samples) > 1 and samples[-1][0] > samples[0][0]:
            rate = (samples[-1][1] - samples[0][1]) / (samples[-1][0] - samples[0][0])
        started = job.started_at
        elapsed = 0.0
        if started is not None:
            end = job.completed_at or job.canceled_at
            elapsed = ((end or datetime.now(UTC)) - started).total_seconds()
        total = int(job.total_document_count or 0) or None
        eta = (max(total - indexed, 0) / rate) if total and rate > 0 else None
        phase = {
            "pending": "waiting for the service",
            "in_progress": "syncing",
            "canceling": "canceling",
        }.get(status, "done")
        return FeedState(
            status=status,
            phase=phase,
            indexed=indexed,
            extracted=indexed,
            deleted=int(job.deleted_document_count or 0),
            bytes=int((job.indexed_document_volume or 0) * 1024 * 1024),
            docs_per_second=max(rate, 0.0),
            total=total,
            eta_seconds=eta,
            elapsed=elapsed,
            last_error=job.error,
            job_id=self.job_id,
            notices=tuple(services.job_notices(job)),
        )

    def poll(self) -> FeedState:
        return self._reading.state

    def cancel(self) -> None:
        if self._screen is not None:
            self._screen.run_worker(self._cancel(), group="job-cancel", exit_on_error=False)

    async def _cancel(self) -> None:
        async with services.Cluster(self.settings) as cluster:
            await cluster.request_cancel(self.job_id)
        self._log.append(f"{time.strftime('%H:%M:%S')} cancel requested")

    def suspend(self) -> None:
        """The service owns the job: leaving this screen changes nothing there."""

    def failures(self, limit: int = 200) -> list[FailureRow]:
        return [FailureRow(*row) for row in services.job_failures(self.job_id, limit)]

    def new_log_lines(self) -> list[str]:
        lines, self._log = self._log, []
        return lines
