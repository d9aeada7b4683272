"""A job record (as a service writes it) read as the engine's `ProgressSnapshot`, so a job
run elsewhere is shown exactly like a sync run here."""

from __future__ import annotations

from datetime import UTC, datetime

from sluice.core.engine.progress import Counters, Phase, ProgressSnapshot, SyncStatus
from sluice.core.engine.runner import job_notices
from sluice.core.protocol import SyncJob

_PHASES = {"pending": Phase.WAITING, "in_progress": Phase.SYNCING, "canceling": Phase.CANCELING}
_FINAL = {status.value: status for status in SyncStatus}


def snapshot_from_job(
    job: SyncJob, *, docs_per_second: float = 0.0, now: datetime | None = None
) -> ProgressSnapshot:
    """The record's counters as a snapshot. The record has no "extracted" count: documents
    indexed are the progress made. `docs_per_second` is the caller's measure between reads
    (the record has no rate); the final snapshot of a finished job carries its status."""
    status = str(job.status or "pending")
    indexed = int(job.indexed_document_count or 0)
    elapsed = 0.0
    if job.started_at is not None:
        end = job.completed_at or job.canceled_at or now or datetime.now(UTC)
        elapsed = max((end - job.started_at).total_seconds(), 0.0)
    rate = max(docs_per_second, 0.0)
    return ProgressSnapshot(
        phase=_PHASES.get(status, Phase.DONE),
        counters=Counters(
            extracted=indexed,
            indexed=indexed,
            deleted=int(job.deleted_document_count or 0),
            bytes=int((job.indexed_document_volume or 0) * 1024 * 1024),
        ),
        elapsed=elapsed,
        docs_per_second=rate,
        total=int(job.total_document_count or 0) or None,
        last_error=job.error,
        phase_rate=rate,
        status=_FINAL.get(status),
        notices=tuple(job_notices(job.metadata)),
    )
