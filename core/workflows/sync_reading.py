"""One reading of a sync for a front end: the engine's `ProgressSnapshot`, unchanged, plus
what only the run knows — its status word, its job id, the run's own error.

A sync run here and a job a service runs answer with the same type, so a screen paints one
progress model; "done", rate, total and ETA are the snapshot's, computed once in core."""

from __future__ import annotations

from dataclasses import dataclass

from sluice.core.engine.deletion_guard import GuardTrip
from sluice.core.engine.progress import Counters, Phase, ProgressSnapshot
from sluice.core.engine.reconcile import Reconciliation

#: Statuses after which nothing changes any more (Elastic's final job statuses).
FINISHED = frozenset({"completed", "error", "canceled", "suspended"})


def empty_snapshot(phase: Phase = Phase.STARTING) -> ProgressSnapshot:
    """The snapshot before the engine published one: nothing counted yet."""
    return ProgressSnapshot(phase=phase, counters=Counters(), elapsed=0.0, docs_per_second=0.0)


@dataclass(frozen=True, slots=True)
class SyncReading:
    """`status` is a job status (`pending`, `in_progress`, `completed`…) or a run's own
    (`starting`, `running`, `finishing`, `canceling`, `suspending`)."""

    status: str
    snapshot: ProgressSnapshot
    job_id: str | None = None
    error: str | None = None  # the run's error; else the snapshot's last error is shown
    reconciliation: Reconciliation | None = None  # once completed: the index against the source
    deletion_guard: GuardTrip | None = None  # the guard stopped the sync before deleting

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def last_error(self) -> str | None:
        return self.error or self.snapshot.last_error

    @property
    def stalled(self) -> str | None:
        """Why nothing moves while bulk requests are retried (never once finished)."""
        stalled = self.snapshot.stalled
        return stalled.message() if stalled is not None and not self.finished else None

    @property
    def waiting(self) -> str | None:
        """Why the source waits (Microsoft's throttling) and how long still (never once
        finished)."""
        waiting = self.snapshot.waiting
        return waiting.message() if waiting is not None and not self.finished else None

    @property
    def notices(self) -> tuple[str, ...]:
        return self.snapshot.notices
