"""Quartz cron as Kibana writes it, and scheduled-job creation across instances."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from sluice.core.protocol import (
    ConnectorStatus,
    IndexConnectorStore,
    JobType,
    TriggerMethod,
    create_due_scheduled_jobs,
    latest_run,
    next_run,
    validate_cron,
)
from sluice.core.protocol.timeutil import to_iso

T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 0 * * * ?", datetime(2025, 1, 1, 13, 0, 0, tzinfo=UTC)),
        ("0 0 0 * * ?", datetime(2025, 1, 2, 0, 0, 0, tzinfo=UTC)),
        ("30 * * * * ?", datetime(2025, 1, 1, 12, 0, 30, tzinfo=UTC)),  # seconds honoured
        ("*/15 * * * * ?", datetime(2025, 1, 1, 12, 0, 15, tzinfo=UTC)),
        ("0 30 2 ? * MON-FRI", datetime(2025, 1, 2, 2, 30, tzinfo=UTC)),
        ("0 0 9 ? * 2", datetime(2025, 1, 6, 9, 0, tzinfo=UTC)),  # Quartz 2 = Monday
        ("0 0 9 ? * 1", datetime(2025, 1, 5, 9, 0, tzinfo=UTC)),  # Quartz 1 = Sunday
        ("0 0 9 ? * 7", datetime(2025, 1, 4, 9, 0, tzinfo=UTC)),  # Quartz 7 = Saturday
        ("0 0 9 ? * 6L", datetime(2025, 1, 31, 9, 0, tzinfo=UTC)),  # last Friday
        ("0 0 9 ? * 2#2", datetime(2025, 1, 13, 9, 0, tzinfo=UTC)),  # 2nd Monday
        ("0 0 0 L * ?", datetime(2025, 1, 31, tzinfo=UTC)),
        ("0 0 0 1 1 ? 2027", datetime(2027, 1, 1, tzinfo=UTC)),  # year field
        ("0 0 12 * * ? 2025-2030", datetime(2025, 1, 2, 12, tzinfo=UTC)),
        ("0 15 10 ? * MON,WED", datetime(2025, 1, 6, 10, 15, tzinfo=UTC)),
    ],
)
def test_next_run(cron, expected):
    assert validate_cron(cron) is None
    assert next_run(cron, T0) == expected


def test_next_run_is_strictly_after_and_accepts_naive_utc():
    assert next_run("0 0 12 * * ?", T0) == T0 + timedelta(days=1)
    assert next_run("0 0 12 * * ?", T0.replace(tzinfo=None)) == T0 + timedelta(days=1)


def test_latest_run():
    assert latest_run("0 0 * * * ?", T0) == T0
    assert latest_run("0 0 * * * ?", T0 + timedelta(minutes=59)) == T0
    assert latest_run("0 0 0 1 1 ? 2030", T0) is None


@pytest.mark.parametrize(
    ("cron", "fragment"),
    [
        ("", "empty"),
        ("*/5 * * * *", "6 or 7"),
        ("0 0 0 * * *", "exactly one of day-of-month"),
        ("0 0 0 ? * ?", "exactly one of day-of-month"),
        ("0 0 ? * * MON", "'?' is only allowed"),
        ("0 61 * * * ?", "not a valid cron"),
        ("0 0 0 ? * 8", "not 1-7"),
        ("0 0 0 LW * ?", "unsupported"),
        ("0 0 0 30 2 ?", "never fires"),
        ("0 0 0 * * ? 1900", "outside 1970-2099"),
    ],
)
def test_validate_cron_messages(cron, fragment):
    message = validate_cron(cron)
    assert message is not None and fragment in message


@pytest.fixture
async def store(es, index_prefix):
    store = IndexConnectorStore(es, index_prefix=index_prefix)
    await store.ensure_indices()
    yield store
    for index in (store.names.connectors_concrete, store.names.jobs_concrete):
        await es.options(ignore_status=404).indices.delete(index=index)


async def scheduled_connector(store, cron="0 0 * * * ?", **features):
    connector = await store.create_connector(
        index_name="search-sched", service_type="dir", features=features or None
    )
    await store.update_configuration(connector.id, schema={"a": {"label": "A", "value": "x"}})
    await store.update_scheduling(connector.id, {"full": {"enabled": True, "interval": cron}})
    return connector


@pytest.mark.es
async def test_scheduled_job_created_once_per_tick(store):
    connector = await scheduled_connector(store)
    fresh = await store.read_connector_versioned(connector.id)
    # first sight: the current tick is recorded, no sync in the past
    assert await create_due_scheduled_jobs(store, fresh, T0 + timedelta(minutes=5)) == []
    fresh = await store.read_connector_versioned(connector.id)
    assert fresh.doc["last_sync_scheduled_at"] == to_iso(T0)

    assert await create_due_scheduled_jobs(store, fresh, T0 + timedelta(minutes=30)) == []
    later = T0 + timedelta(hours=1, seconds=3)
    created = await create_due_scheduled_jobs(store, fresh, later)
    assert len(created) == 1
    job = await store.get_job(created[0])
    assert (job.trigger_method, job.job_type) == (TriggerMethod.SCHEDULED, JobType.FULL)
    fresh = await store.read_connector_versioned(connector.id)
    assert fresh.doc["last_sync_scheduled_at"] == to_iso(T0 + timedelta(hours=1))
    assert await create_due_scheduled_jobs(store, fresh, later) == []  # same tick: nothing

    # the queued job was never claimed: the next tick does not pile another one up
    assert await create_due_scheduled_jobs(store, fresh, later + timedelta(hours=1)) == []


@pytest.mark.es
async def test_missed_ticks_give_one_job(store):
    connector = await scheduled_connector(store, cron="0 * * * * ?")
    fresh = await store.read_connector_versioned(connector.id)
    await create_due_scheduled_jobs(store, fresh, T0)
    fresh = await store.read_connector_versioned(connector.id)
    created = await create_due_scheduled_jobs(store, fresh, T0 + timedelta(days=2))
    assert len(created) == 1


@pytest.mark.es
async def test_instances_racing_on_the_same_tick_create_one_job(es, store):
    connector = await scheduled_connector(store)
    fresh = await store.read_connector_versioned(connector.id)
    await create_due_scheduled_jobs(store, fresh, T0)
    # eight instances read the connector at the same moment, then all try the next tick
    instances = [IndexConnectorStore(es, index_prefix=store.names.prefix) for _ in range(8)]
    reads = [await s.read_connector_versioned(connector.id) for s in instances]
    results = await asyncio.gather(
        *(
            create_due_scheduled_jobs(s, read, T0 + timedelta(hours=1))
            for s, read in zip(instances, reads, strict=True)
        )
    )
    assert sum(len(r) for r in results) == 1
    jobs = await store.list_jobs(connector_id=connector.id)
    assert len(jobs) == 1


@pytest.mark.es
async def test_feature_gated_and_unconfigured_connectors(store):
    connector = await scheduled_connector(
        store, incremental_sync={"enabled": True}, document_level_security={"enabled": False}
    )
    await store.update_scheduling(
        connector.id,
        {
            "incremental": {"enabled": True, "interval": "0 0 * * * ?"},
            "access_control": {"enabled": True, "interval": "0 0 * * * ?"},
        },
    )
    fresh = await store.read_connector_versioned(connector.id)
    await create_due_scheduled_jobs(store, fresh, T0)
    fresh = await store.read_connector_versioned(connector.id)
    created = await create_due_scheduled_jobs(store, fresh, T0 + timedelta(hours=1))
    types = sorted([(await store.get_job(j)).job_type for j in created])
    assert types == [JobType.FULL, JobType.INCREMENTAL]  # no DLS feature: no access control

    await store.update_configuration(
        connector.id, values={"a": ""}, status=ConnectorStatus.NEEDS_CONFIGURATION
    )
    fresh = await store.read_connector_versioned(connector.id)
    assert await create_due_scheduled_jobs(store, fresh, T0 + timedelta(hours=5)) == []
