"""Which job of a connector should be continued rather than started anew.

A sync stopped by a closed terminal or a service shutdown is `suspended`; one whose worker
died without a word stays `in_progress` with a `last_seen` that no longer moves. Starting a
new job beside either leaves the old one waiting for `sluice run` (or blocking the
connector), so every front end asks here first and offers to resume that job.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sluice.core.protocol.jobs import STALE_AFTER
from sluice.core.protocol.models import JobStatus, JobType, SyncJob
from sluice.core.protocol.store import ConnectorStore
from sluice.core.protocol.timeutil import utc_now

#: Content syncs only: access-control jobs are not run by Sluice's engine.
CONTENT_JOB_TYPES = (JobType.FULL, JobType.INCREMENTAL)


async def resumable_job(
    store: ConnectorStore,
    connector_id: str,
    *,
    now: datetime | None = None,
    stale_after: timedelta = STALE_AFTER,
) -> SyncJob | None:
    """The connector's newest suspended content sync, else its newest `in_progress` one whose
    worker has been silent for `stale_after`; None when there is nothing to resume."""
    suspended = await store.find_jobs(
        statuses=[JobStatus.SUSPENDED],
        connector_ids=[connector_id],
        job_types=CONTENT_JOB_TYPES,
        oldest_first=False,
        size=1,
    )
    if suspended:
        return suspended[0]
    stale = await store.find_jobs(
        statuses=[JobStatus.IN_PROGRESS],
        connector_ids=[connector_id],
        job_types=CONTENT_JOB_TYPES,
        last_seen_before=(now or utc_now()) - stale_after,
        oldest_first=False,
        size=1,
    )
    return stale[0] if stale else None


async def make_resumable(store: ConnectorStore, job: SyncJob) -> SyncJob:
    """A silent `in_progress` job becomes `suspended`, which any worker may claim; a
    suspended one is returned as it is."""
    if job.status is JobStatus.IN_PROGRESS:
        return await store.suspend_job(job.id)
    return job


async def discard_job(store: ConnectorStore, job: SyncJob) -> SyncJob:
    """Cancel an interrupted job the user chose not to resume, so it never runs beside the
    new one (a silent `in_progress` job is suspended first: only then may it be canceled)."""
    if job.is_terminal:
        return job
    job = await make_resumable(store, job)
    return await store.cancel_job(job.id)
