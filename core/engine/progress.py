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


class SyncStatus(StrEnum):
    """Final status of a sync; values are the job statuses of Elastic's protocol."""

    COMPLETED = "completed"
    ERROR = "error"
    CANCELED = "canceled"
    SUSPENDED = "suspended"


@dataclass(slots=True)
class Counters:
    """What happened to documents so far. `indexed` counts new ones, `updated` overwritten."""

    extracted: int = 0
    indexed: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    failed: int = 0
    bytes: int = 0

    def copy(self) -> Counters:
        return replace(self)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Failure:
    """One document the sync could not handle; recorded in the job's failure log."""

    doc_id: str
    operation: str
    reason: str
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class ProgressSnapshot:
    phase: Phase
    counters: Counters
    elapsed: float
    docs_per_second: float
    total: int | None = None
    last_error: str | None = None

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left when the source told its total and the rate is known."""
        if not self.total or self.docs_per_second <= 0:
            return None
        left = self.total - self.counters.extracted  # extracted counts skipped ones too
        return max(left, 0) / self.docs_per_second


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


SyncEvent = ProgressEvent | PhaseEvent | FailureEvent | FinishedEvent
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
