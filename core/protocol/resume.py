"""Which job of a connector should be continued rather than started anew.

A sync stopped by a closed terminal or a service shutdown is `suspended`; one whose worker
died without a word stays `in_progress` with a `last_seen` that no longer moves. Starting a
new job beside either leaves the old one waiting for `sluice run` (or blocking the
connector), so every front end asks here first and offers to resume that job.
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

from sluice.core.protocol.identity import worker_of
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
    worker has been silent for `stale_after` or whose process on this host is gone; None
    when there is nothing to resume."""
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
    if stale:
        return stale[0]
    running = await store.find_jobs(
        statuses=[JobStatus.IN_PROGRESS],
        connector_ids=[connector_id],
        job_types=CONTENT_JOB_TYPES,
        oldest_first=False,
        size=5,
    )
    host = socket.gethostname()
    return next((job for job in running if _dead_here(job, host)), None)


def _dead_here(job: SyncJob, host: str) -> bool:
    """The instance recorded on `job` ran on `host` and its process is gone."""
    worker = worker_of(job.metadata)
    return worker is not None and worker.is_dead_here(host)


async def recover_dead_jobs(
    store: ConnectorStore, connector_ids: list[str], host: str
) -> list[str]:
    """Jobs of `connector_ids` left `in_progress` by an instance on this `host` whose process
    is gone (kill -9, a crash): suspended at once, so the next pending-jobs pass resumes
    them (from their checkpoint), instead of blocking the connector until stale-job cleanup
    gives up on their heartbeat. A dead instance's `canceling` job is canceled. Returns the
    ids recovered."""
    if not connector_ids:
        return []
    recovered = []
    jobs = await store.find_jobs(
        statuses=[JobStatus.IN_PROGRESS, JobStatus.CANCELING], connector_ids=connector_ids
    )
    for job in jobs:
        if not _dead_here(job, host):
            continue
        if job.status is JobStatus.CANCELING:
            await store.cancel_job(job.id)
        else:
            await store.suspend_job(job.id)
        recovered.append(job.id)
    return recovered


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
