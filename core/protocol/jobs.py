"""The job queue as a service loop sees it: what to pick up, and what to clean up.

Both work on any `ConnectorStore` and are safe to run on every instance at once: all their
writes are conditional, so two instances cleaning the same stale job fail it once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from sluice.core.protocol.models import (
    ACTIVE_STATUSES,
    CLAIMABLE_STATUSES,
    Connector,
    JobType,
    SyncJob,
)
from sluice.core.protocol.store import ConnectorStore
from sluice.core.protocol.timeutil import to_iso, utc_now

logger = logging.getLogger("sluice.protocol.jobs")

STALE_AFTER = timedelta(minutes=5)
ORPHAN_GRACE = timedelta(seconds=3)


async def pending_jobs(
    store: ConnectorStore,
    connector_ids: Iterable[str],
    *,
    job_types: Iterable[JobType] | None = None,
    size: int = 100,
) -> list[SyncJob]:
    """Jobs waiting for a worker (`pending`, and `suspended` ones to resume), oldest first."""
    ids = list(connector_ids)
    if not ids:
        return []
    return await store.find_jobs(
        statuses=CLAIMABLE_STATUSES, connector_ids=ids, job_types=job_types, size=size
    )


def _describe(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min" if seconds >= 120 else f"{seconds} s"


async def cleanup_stale_jobs(
    store: ConnectorStore,
    *,
    connector_ids: Iterable[str] | None = None,
    stale_after: timedelta = STALE_AFTER,
    now: datetime | None = None,
    orphan_grace: timedelta = ORPHAN_GRACE,
) -> list[str]:
    """Fail jobs nobody runs any more and unblock their connectors; returns the failed ids.

    - `in_progress`/`canceling` jobs whose `last_seen` is older than `stale_after` (their
      instance died or lost the cluster): failed, and the connector's `last_sync_status`
      (or access-control status) reset, so it can sync again.
    - jobs of deleted or vanished connectors that have not ended: failed.
    - a connector left `in_progress` with no running job behind it (an instance died between
      locking the connector and claiming the job): reset from its latest finished job, after
      checking twice, `orphan_grace` apart, that it really is orphaned.

    `connector_ids` limits the cleanup to those connectors (default: all).
    """
    now = now or utc_now()
    ids = list(connector_ids) if connector_ids is not None else None
    failed: list[str] = []

    for job in await store.find_jobs(
        statuses=ACTIVE_STATUSES, connector_ids=ids, last_seen_before=now - stale_after
    ):
        seen = to_iso(job.last_seen) if job.last_seen else "never"
        message = (
            f"The sync stopped sending heartbeats: last seen {seen} "
            f"on worker {job.worker_label or 'unknown'}, more than {_describe(stale_after)} "
            "before the cleanup (its instance stopped or lost Elasticsearch); start it again"
        )
        if await store.fail_stale_job(job, message):
            logger.warning("failed stale job %s of connector %s", job.id, job.connector_id)
            failed.append(job.id)

    failed += await _fail_jobs_of_deleted_connectors(store, ids)
    await _release_orphan_locks(store, ids, orphan_grace)
    return failed


async def _fail_jobs_of_deleted_connectors(
    store: ConnectorStore, ids: list[str] | None
) -> list[str]:
    open_jobs = await store.find_jobs(
        statuses=CLAIMABLE_STATUSES | ACTIVE_STATUSES, connector_ids=ids, size=10_000
    )
    by_connector: dict[str, list[SyncJob]] = defaultdict(list)
    for job in open_jobs:
        by_connector[job.connector_id or ""].append(job)
    failed: list[str] = []
    for connector_id, jobs in by_connector.items():
        connector = await store.read_connector_versioned(connector_id) if connector_id else None
        if connector is not None and not connector.deleted:
            continue
        for job in jobs:
            message = f"Connector {connector_id} was deleted; the job cannot run"
            if await store.fail_stale_job(job, message):
                logger.warning("failed job %s: connector %s deleted", job.id, connector_id)
                failed.append(job.id)
    return failed


async def _orphans(store: ConnectorStore, ids: list[str] | None) -> list[tuple[Connector, JobType]]:
    """(connector, family) pairs whose bookkeeping says in progress with no job running."""
    candidates = [c.id for c in await store.list_connectors()] if ids is None else ids
    found: list[tuple[Connector, JobType]] = []
    for connector_id in candidates:
        connector = await store.read_connector_versioned(connector_id)
        if connector is None or connector.deleted:
            continue
        for family_type, types in (
            (JobType.FULL, [JobType.FULL, JobType.INCREMENTAL]),
            (JobType.ACCESS_CONTROL, [JobType.ACCESS_CONTROL]),
        ):
            if connector.sync_status(family_type) not in ACTIVE_STATUSES:
                continue
            running = await store.find_jobs(
                statuses=ACTIVE_STATUSES, connector_ids=[connector_id], job_types=types, size=1
            )
            if not running:
                found.append((connector, family_type))
    return found


async def _release_orphan_locks(
    store: ConnectorStore, ids: list[str] | None, grace: timedelta
) -> None:
    first = await _orphans(store, ids)
    if not first:
        return
    await asyncio.sleep(grace.total_seconds())
    second = {(c.id, t): c for c, t in await _orphans(store, [c.id for c, _ in first])}
    for connector, family_type in first:
        again = second.get((connector.id, family_type))
        if again is not None and await store.release_orphan_lock(again, family_type):
            logger.warning(
                "connector %s was left %s with no job running; reset",
                connector.id,
                again.sync_status(family_type),
            )
