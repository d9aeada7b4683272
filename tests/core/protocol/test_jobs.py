"""Sync jobs through every backend: queue, claim, heartbeat, cancel, end, bookkeeping."""

from __future__ import annotations

import asyncio
import os

import pytest

from sluice.core.protocol import (
    ApiConnectorStore,
    ConnectorStatus,
    InvalidRequest,
    InvalidTransition,
    JobStatus,
    JobType,
    SyncStats,
    TriggerMethod,
    pending_jobs,
)

pytestmark = pytest.mark.es

SCHEMA = {
    "directory": {"label": "Directory", "type": "str", "value": "/data", "order": 1},
}


async def configured(harness, **overrides):
    connector = await harness.connector(**overrides)
    await harness.store.update_configuration(connector.id, schema=SCHEMA)
    return connector


async def test_job_is_created_with_a_snapshot_of_the_connector(harness):
    connector = await configured(harness, language="fr")
    job_id = await harness.store.create_job(connector.id)
    # later edits do not change the queued job
    await harness.store.update_configuration(connector.id, values={"directory": "/elsewhere"})

    job = await harness.store.get_job(job_id)
    assert job.status is JobStatus.PENDING
    assert job.job_type is JobType.FULL
    assert job.trigger_method is TriggerMethod.ON_DEMAND
    assert job.connector_id == connector.id
    assert job.index_name == connector.index_name
    assert job.service_type == "dir"
    assert job.language == "fr"
    assert job.configuration["directory"]["value"] == "/data"
    assert [r["id"] for r in job.filtering["rules"]] == ["DEFAULT"]
    assert job.pipeline["name"] == "search-default-ingestion"
    assert job.created_at is not None and job.last_seen is not None


async def test_access_control_jobs_target_the_identities_index(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id, JobType.ACCESS_CONTROL)
    job = await harness.store.get_job(job_id)
    assert job.index_name == f".search-acl-filter-{connector.index_name}"
    assert job.job_type is JobType.ACCESS_CONTROL


async def test_job_needs_an_index_name(harness):
    connector = await configured(harness)
    await harness.store.update_index_name(connector.id, None)
    with pytest.raises(InvalidRequest, match="no index attached"):
        await harness.store.create_job(connector.id)


async def test_list_jobs_filters(harness):
    connector = await configured(harness)
    other = await configured(harness)
    full = await harness.store.create_job(connector.id)
    incremental = await harness.store.create_job(connector.id, JobType.INCREMENTAL)
    await harness.store.create_job(other.id)
    listed = await harness.store.list_jobs(connector_id=connector.id)
    assert [j.id for j in listed] == [incremental, full]  # newest first
    only_full = await harness.store.list_jobs(connector_id=connector.id, job_types=[JobType.FULL])
    assert [j.id for j in only_full] == [full]
    assert await harness.store.claim_job(full, "host-a")
    running = await harness.store.list_jobs(connector_id=connector.id, status=JobStatus.IN_PROGRESS)
    assert [j.id for j in running] == [full]
    waiting = await pending_jobs(harness.store, [connector.id, other.id])
    assert full not in [j.id for j in waiting] and incremental in [j.id for j in waiting]


async def test_claim_once_then_run_to_completion(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)

    assert await harness.store.claim_job(job_id, "host-a", sync_cursor={"lsn": 1}) is True
    assert await harness.store.claim_job(job_id, "host-b") is False
    job = await harness.store.get_job(job_id)
    assert job.status is JobStatus.IN_PROGRESS
    assert job.worker_hostname == "host-a"
    assert job.started_at is not None
    assert job.sync_cursor == {"lsn": 1}
    locked = await harness.store.get_connector(connector.id)
    assert locked.last_sync_status is JobStatus.IN_PROGRESS
    assert locked.status is ConnectorStatus.CONNECTED

    first_seen = job.last_seen
    await asyncio.sleep(0.01)
    await harness.store.update_job_stats(
        job_id,
        SyncStats(indexed_document_count=7, indexed_document_volume=2, total_document_count=7),
        metadata={"phase": "indexing"},
    )
    job = await harness.store.get_job(job_id)
    assert job.last_seen > first_seen
    assert (job.indexed_document_count, job.indexed_document_volume) == (7, 2)
    assert job.metadata["phase"] == "indexing"
    # replacing `metadata` keeps the store's own entry: which instance runs the job
    assert (job.worker.host, job.worker.pid) == ("host-a", os.getpid())

    done = await harness.store.complete_job(
        job_id,
        SyncStats(indexed_document_count=10, deleted_document_count=3, total_document_count=10),
        sync_cursor={"lsn": 42},
    )
    assert done.status is JobStatus.COMPLETED
    job = await harness.store.get_job(job_id)
    assert job.status is JobStatus.COMPLETED and job.completed_at is not None
    assert (job.indexed_document_count, job.deleted_document_count) == (10, 3)
    after = await harness.store.get_connector(connector.id)
    assert after.last_sync_status is JobStatus.COMPLETED
    assert after.last_sync_error is None
    assert after.status is ConnectorStatus.CONNECTED
    assert after.last_synced is not None
    assert (after.last_indexed_document_count, after.last_deleted_document_count) == (10, 3)
    assert after.sync_cursor == {"lsn": 42}

    with pytest.raises(InvalidTransition, match=r"\[completed\] to \[completed\]"):
        await harness.store.complete_job(job_id)


async def test_one_job_per_connector_family_at_a_time(harness):
    connector = await configured(harness)
    first = await harness.store.create_job(connector.id)
    second = await harness.store.create_job(connector.id, JobType.INCREMENTAL)
    acl = await harness.store.create_job(connector.id, JobType.ACCESS_CONTROL)
    assert await harness.store.claim_job(first, "host-a")
    assert not await harness.store.claim_job(second, "host-b")  # content family busy
    assert await harness.store.claim_job(acl, "host-b")  # its own family
    await harness.store.complete_job(first)
    assert await harness.store.claim_job(second, "host-b")
    again = await harness.store.get_connector(connector.id)
    assert again.last_sync_status is JobStatus.IN_PROGRESS
    assert again.last_access_control_sync_status is JobStatus.IN_PROGRESS


async def test_fail_marks_the_connector(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(job_id, "host-a")
    await harness.store.fail_job(job_id, "directory /data does not exist")
    job = await harness.store.get_job(job_id)
    assert (job.status, job.error) == (JobStatus.ERROR, "directory /data does not exist")
    after = await harness.store.get_connector(connector.id)
    assert after.status is ConnectorStatus.ERROR
    assert after.error == "directory /data does not exist"
    assert after.last_sync_status is JobStatus.ERROR
    assert after.last_sync_error == "directory /data does not exist"


async def test_cancel_pending_and_running_jobs(harness):
    connector = await configured(harness)
    pending = await harness.store.create_job(connector.id)
    await harness.store.request_cancel(pending)
    job = await harness.store.get_job(pending)
    assert job.status is JobStatus.CANCELED
    assert job.canceled_at is not None and job.cancelation_requested_at is not None

    running = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(running, "host-a")
    await harness.store.request_cancel(running)
    seen = await harness.store.get_job(running)  # what the runner polls
    assert seen.status is JobStatus.CANCELING
    ended = await harness.store.cancel_job(running, SyncStats(indexed_document_count=1))
    assert ended.status is JobStatus.CANCELED
    after = await harness.store.get_connector(connector.id)
    assert after.last_sync_status is JobStatus.CANCELED

    with pytest.raises(InvalidRequest):
        await harness.store.request_cancel(running)


async def test_completing_a_canceling_job_ends_canceled(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(job_id, "host-a")
    await harness.store.request_cancel(job_id)
    ended = await harness.store.complete_job(job_id)
    assert ended.status is JobStatus.CANCELED


async def test_suspended_jobs_are_picked_up_again(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    assert await harness.store.claim_job(job_id, "host-a")
    await harness.store.suspend_job(job_id, SyncStats(indexed_document_count=5))
    after = await harness.store.get_connector(connector.id)
    assert after.last_sync_status is JobStatus.SUSPENDED
    waiting = await pending_jobs(harness.store, [connector.id])
    assert [j.id for j in waiting] == [job_id]
    assert await harness.store.claim_job(job_id, "host-b")
    job = await harness.store.get_job(job_id)
    assert (job.status, job.worker_hostname) == (JobStatus.IN_PROGRESS, "host-b")


async def test_claim_refused_for_deleted_connector(harness):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    await harness.store.delete_connector(connector.id)
    assert await harness.store.claim_job(job_id, "host-a") is False
    assert await harness.store.claim_job("no-such-job", "host-a") is False


async def test_concurrent_claims_in_one_process(harness):
    """Ten claimers (separate stores) race for one job: exactly one wins."""
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    results = await asyncio.gather(
        *(harness.store.claim_job(job_id, f"host-{n}") for n in range(10))
    )
    assert results.count(True) == 1
    job = await harness.store.get_job(job_id)
    assert job.worker_hostname == f"host-{results.index(True)}"


async def test_clusters_without_the_claim_endpoint_claim_directly(harness):
    """Elasticsearch 8.12-8.14 have the Connector API but no `_claim` (8.15)."""
    if harness.client is None:
        pytest.skip("needs the fake Connector API")
    old = ApiConnectorStore(harness.client, index_prefix=harness.names.prefix, claim_endpoint=False)
    connector = await configured(harness)
    job_id = await old.create_job(connector.id)
    results = await asyncio.gather(*(old.claim_job(job_id, f"host-{n}") for n in range(5)))
    assert results.count(True) == 1
    assert not any(r.path.endswith("/_claim") for r in harness.fake.requests)
    job = await old.get_job(job_id)
    assert job.status is JobStatus.IN_PROGRESS
    await old.complete_job(job_id)
    # the default store (8.15+) claims through the endpoint
    assert await harness.store.claim_job(await old.create_job(connector.id), "host-new")
    assert any(r.path.endswith("/_claim") for r in harness.fake.requests)
