"""Cleanup of jobs nobody runs any more, on every backend."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from sluice.core.protocol import JobStatus, JobType, cleanup_stale_jobs, pending_jobs
from sluice.core.protocol.timeutil import utc_now

pytestmark = pytest.mark.es


async def configured(harness):
    connector = await harness.connector()
    await harness.store.update_configuration(
        connector.id, schema={"a": {"label": "A", "value": "x"}}
    )
    return connector


async def test_stale_running_and_canceling_jobs_are_failed(harness):
    connector = await configured(harness)
    other = await configured(harness)
    running = await harness.store.create_job(connector.id)
    canceling = await harness.store.create_job(other.id)
    assert await harness.store.claim_job(running, "host-a")
    assert await harness.store.claim_job(canceling, "host-a")
    await harness.store.request_cancel(canceling)
    ids = [connector.id, other.id]

    assert await cleanup_stale_jobs(harness.store, connector_ids=ids) == []
    later = utc_now() + timedelta(minutes=6)
    failed = await cleanup_stale_jobs(harness.store, connector_ids=ids, now=later)
    assert sorted(failed) == sorted([running, canceling])
    for job_id in failed:
        job = await harness.store.get_job(job_id)
        assert job.status is JobStatus.ERROR and "heartbeats" in job.error
    after = await harness.store.get_connector(connector.id)
    assert after.last_sync_status is JobStatus.ERROR  # no longer in progress: unblocked
    # a second cleanup (another instance) has nothing left to do
    assert await cleanup_stale_jobs(harness.store, connector_ids=ids, now=later) == []


async def test_heartbeat_keeps_a_job_alive(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(job_id, "host-a")
    await asyncio.sleep(1.2)
    await harness.store.update_job_stats(job_id)
    failed = await cleanup_stale_jobs(
        harness.store, connector_ids=[connector.id], stale_after=timedelta(seconds=1)
    )
    assert failed == []
    assert (await harness.store.get_job(job_id)).status is JobStatus.IN_PROGRESS


async def test_jobs_of_deleted_connectors_are_failed(harness):
    connector = await configured(harness)
    waiting = await harness.store.create_job(connector.id)
    running = await harness.store.create_job(connector.id, JobType.ACCESS_CONTROL)
    assert await harness.store.claim_job(running, "host-a")
    await harness.store.delete_connector(connector.id)
    failed = await cleanup_stale_jobs(harness.store, connector_ids=[connector.id])
    assert sorted(failed) == sorted([waiting, running])
    for job_id in failed:
        job = await harness.store.get_job(job_id)
        assert job.status is JobStatus.ERROR and "was deleted" in job.error
    assert await pending_jobs(harness.store, [connector.id]) == []


async def test_concurrent_cleanups_fail_each_job_once(harness):
    connector = await configured(harness)
    job_ids = []
    for job_type in (JobType.FULL, JobType.ACCESS_CONTROL):
        job_id = await harness.store.create_job(connector.id, job_type)
        assert await harness.store.claim_job(job_id, "host-a")
        job_ids.append(job_id)
    later = utc_now() + timedelta(minutes=10)
    results = await asyncio.gather(
        *(
            cleanup_stale_jobs(harness.store, connector_ids=[connector.id], now=later)
            for _ in range(4)
        )
    )
    everything = [job_id for result in results for job_id in result]
    assert sorted(everything) == sorted(job_ids)


async def test_orphan_lock_without_a_running_job_is_released(harness):
    """An instance died between locking the connector and claiming the job."""
    connector = await configured(harness)
    done = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(done, "host-a")
    await harness.store.complete_job(done)
    waiting = await harness.store.create_job(connector.id)
    orphaned = await harness.store.read_connector_versioned(connector.id)
    from sluice.core.protocol.index_store import IndexConnectorStore, locked_document

    direct = IndexConnectorStore(harness.es, index_prefix=harness.names.prefix)
    assert await direct._write_if_unchanged(
        harness.names.connectors, orphaned, locked_document(orphaned, JobType.FULL)
    )
    assert not await harness.store.claim_job(waiting, "host-b")  # looks busy

    await cleanup_stale_jobs(
        harness.store, connector_ids=[connector.id], orphan_grace=timedelta(seconds=0.2)
    )
    after = await harness.store.get_connector(connector.id)
    assert after.last_sync_status is JobStatus.COMPLETED  # restored from the latest job
    assert await harness.store.claim_job(waiting, "host-b")
