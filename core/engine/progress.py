"""Progress of a sync as typed events, and a thread-safe board for whoever polls them.

The engine mutates one `Counters` on its own event loop and publishes frozen snapshots at a
bounded rate, so a UI in another thread reads the latest state without ever slowing the
engine (one message per document froze Textual for seconds in measurements).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    STARTING = "starting"
    LISTING = "listing indexed documents"
    EXTRACTING = "extracting"
    DELETING = "deleting stale documents"
    FINISHING = "finishing"
    DONE = "done"
    # a job run by a service, seen from its record (no finer phase is recorded there)
    WAITING = "waiting for the service"
    SYNCING = "syncing"
    CANCELING = "canceling"


class SyncStatus(StrEnum):
    """Final status of a sync; values are the job statuses of Elastic's protocol."""

    COMPLETED = "completed"
    ERROR = "error"
    CANCELED = "canceled"
    SUSPENDED = "suspended"


@dataclass(slots=True)
class Counters:
    """What happened to documents so far. `indexed` counts new ones, `updated` overwritten,
    `unchanged` the ones not sent because the index already holds them as they are,
    `skipped` the ones left out (sync rules, size limit)."""

    extracted: int = 0
    indexed: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    failed: int = 0
    bytes: int = 0
    unchanged: int = 0

    def copy(self) -> Counters:
        return replace(self)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Failure:
    """One document the sync could not handle; recorded in the job's failure log.

    `name` is what a person recognises (a file's path, a row's table and key, a title), since
    `doc_id` is often a hash."""

    doc_id: str
    operation: str
    reason: str
    name: str | None = None
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class Stalled:
    """Bulk requests are failing (timeout, connection refused, 429/5xx) and being retried:
    nothing is lost yet, but nothing moves. `since` is wall-clock time (`time.time()`), so a
    UI thread can tell how long it has lasted."""

    since: float
    attempt: int  # the retry about to be made, 1..max_attempts
    max_attempts: int
    reason: str

    def message(self, now: float | None = None) -> str:
        seconds = max(0, int((time.time() if now is None else now) - self.since))
        return (
            f"Elasticsearch not answering for {seconds} s — retry {self.attempt} of "
            f"{self.max_attempts} ({self.reason})"
        )


@dataclass(frozen=True, slots=True)
class SourceWaiting:
    """The source is told by its server to wait (Microsoft's throttling, say) until `until`
    (wall-clock seconds): nothing is wrong, nothing moves, and the user sees why and for how
    long instead of a stalled counter."""

    since: float
    until: float
    reason: str  # "throttled by Microsoft (HTTP 429)"

    def message(self, now: float | None = None) -> str:
        left = max(0, round(self.until - (time.time() if now is None else now)))
        return f"{self.reason}, resuming in {left} s"


@dataclass(frozen=True, slots=True)
class ProgressSnapshot:
    """The state of a sync at one moment.

    Progress is per phase: while extracting it is documents read of the source's `total`;
    once stale documents are deleted it is `stale_done` of `stale_total` (counted before the
    first delete). The fraction reaches 1.0 only in the final snapshot of a completed sync.
    """

    phase: Phase
    counters: Counters
    elapsed: float
    docs_per_second: float  # over a sliding window; the whole sync's average once finished
    total: int | None = None
    last_error: str | None = None
    stale_total: int | None = None
    stale_done: int = 0
    phase_rate: float = 0.0  # progress units per second in the current phase (for the ETA)
    stalled: Stalled | None = None
    status: SyncStatus | None = None  # set in the final snapshot only
    notices: tuple[str, ...] = ()  # what the user should know although the sync goes on
    waiting: SourceWaiting | None = None  # the source's server asked it to wait

    @property
    def deleting(self) -> bool:
        """True once stale deletion started."""
        return self.stale_total is not None

    @property
    def in_deletion(self) -> bool:
        """Deleting stale documents right now: progress is the deletion's. A finished sync
        shows its documents again (never "deleted 0 of 0")."""
        return self.deleting and self.status is None

    @property
    def rate_is_average(self) -> bool:
        """`docs_per_second` is the whole sync's average (the final snapshot)."""
        return self.status is not None

    @property
    def progress(self) -> tuple[int, int | None]:
        """(done, total) of the current phase; total None when unknown."""
        if self.stale_total is not None:
            return self.stale_done, self.stale_total
        return self.counters.extracted, self.total

    @property
    def shown_progress(self) -> tuple[int, int | None]:
        """(done, total) for a person: the current phase's while the sync runs, its
        documents once it finished."""
        if self.in_deletion:
            return self.stale_done, self.stale_total
        return self.counters.extracted, self.total

    @property
    def fraction(self) -> float | None:
        """0..1 for a progress bar; 1.0 only when the sync completed (a canceled or failed
        sync stays where it stopped)."""
        if self.status is SyncStatus.COMPLETED:
            return 1.0
        done, total = self.progress
        if total is None:
            return None
        return min(done / total, 0.99) if total else 0.99

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left in the current phase, when its total and rate are known."""
        done, total = self.progress
        if self.status is not None or not total or self.phase_rate <= 0:
            return None
        return max(total - done, 0) / self.phase_rate


# -- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    snapshot: ProgressSnapshot


@dataclass(frozen=True, slots=True)
class PhaseEvent:
    phase: Phase


@dataclass(frozen=True, slots=True)
class FailureEvent:
    failure: Failure


@dataclass(frozen=True, slots=True)
class FinishedEvent:
    status: SyncStatus
    snapshot: ProgressSnapshot
    error: str | None


@dataclass(frozen=True, slots=True)
class Resumed:
    """Elasticsearch answered again after a stall of `after` seconds."""

    after: float


SyncEvent = ProgressEvent | PhaseEvent | FailureEvent | FinishedEvent | Stalled | Resumed
Listener = Callable[[SyncEvent], Any]


class RateMeter:
    """Documents per second over a sliding window of recent samples."""

    def __init__(self, window: float = 10.0) -> None:
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()

    def sample(self, now: float, done: int) -> float:
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window:
            self._samples.popleft()
        first_t, first_done = self._samples[0]
        span = now - first_t
        return (done - first_done) / span if span > 0 else 0.0


class ProgressBoard:
    """A listener that keeps the latest snapshot and recent failures for polling threads."""

    def __init__(self, max_failures: int = 200) -> None:
        self._lock = threading.Lock()
        self._snapshot: ProgressSnapshot | None = None
        self._failures: deque[Failure] = deque(maxlen=max_failures)
        self._finished: FinishedEvent | None = None

    def __call__(self, event: SyncEvent) -> None:
        with self._lock:
            if isinstance(event, ProgressEvent):
                self._snapshot = event.snapshot
            elif isinstance(event, FailureEvent):
                self._failures.append(event.failure)
            elif isinstance(event, FinishedEvent):
                self._snapshot = event.snapshot
                self._finished = event
            elif isinstance(event, Stalled | Resumed) and self._snapshot is not None:
                # shown at once, not at the next periodic snapshot
                stalled = event if isinstance(event, Stalled) else None
                self._snapshot = replace(self._snapshot, stalled=stalled)

    @property
    def snapshot(self) -> ProgressSnapshot | None:
        with self._lock:
            return self._snapshot

    @property
    def finished(self) -> FinishedEvent | None:
        with self._lock:
            return self._finished

    def failures(self) -> list[Failure]:
        with self._lock:
            return list(self._failures)
