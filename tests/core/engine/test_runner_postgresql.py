"""A connector's jobs end to end on real servers: PostgreSQL → runner → engine → index, with
the job records and the connector's `sync_cursor` carrying one sync into the next."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from sluice.core.engine.progress import SyncStatus
from sluice.core.engine.runner import run_job
from sluice.core.protocol import JobStatus, JobType
from sluice.sources.registry import create_source, get_source_class
from tests.sources.helpers import parse_url

pytestmark = [pytest.mark.es, pytest.mark.pg]


@pytest.fixture
async def database(pg_url: str) -> AsyncIterator[str]:
    name = f"sluice_runner_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def connect(pg_url: str, database: str) -> asyncpg.Connection:
    s = parse_url(pg_url)
    return await asyncpg.connect(
        host=s.host, port=s.port, user=s.user, password=s.password, database=database
    )


async def test_full_then_incremental_jobs_carry_the_cursor(es, store, database, state_dir, pg_url):
    conn = await connect(pg_url, database)
    await conn.execute(
        "CREATE TABLE items (id int PRIMARY KEY, title text, updated_at timestamptz NOT NULL);"
        "INSERT INTO items SELECT g, 'item ' || g,"
        " '2026-01-01+00'::timestamptz + g * interval '1 min' FROM generate_series(1, 40) g"
    )
    s = parse_url(pg_url)
    index = f"search-sluice-test-{uuid.uuid4().hex[:10]}"
    connector = await store.create_connector(
        index_name=index, service_type="postgresql", name="runner pg"
    )
    await store.update_configuration(
        connector.id,
        schema=get_source_class("postgresql").get_default_configuration(),
        values={
            "host": s.host,
            "port": s.port,
            "username": s.user,
            "password": s.password,
            "database": database,
            "tables": "items",
            "modified_column": "updated_at",
        },
    )
    try:
        full = await store.get_job(await store.create_job(connector.id, JobType.FULL))
        result = await run_job(store, es, full, create_source, worker_hostname="test")
        assert result is not None and result.status is SyncStatus.COMPLETED, result.error
        assert result.counters.indexed == 40
        job = await store.get_job(full.id)
        assert job.status is JobStatus.COMPLETED
        assert job.doc["indexed_document_count"] == 40
        assert job.doc["total_document_count"] == 40
        stored = await store.get_connector(connector.id)
        assert stored.sync_cursor["modified_column"] == "updated_at"
        assert stored.doc["last_sync_status"] == "completed"

        await conn.execute("UPDATE items SET title = 'changed', updated_at = now() WHERE id = 7")
        await conn.execute("INSERT INTO items VALUES (41, 'new', now())")
        incremental = await store.get_job(await store.create_job(connector.id, JobType.INCREMENTAL))
        assert incremental.sync_cursor == stored.sync_cursor  # the job's snapshot has it
        result = await run_job(store, es, incremental, create_source, worker_hostname="test")
        assert result is not None and result.status is SyncStatus.COMPLETED, result.error
        # only the changed and the new row (plus the boundary row the cursor re-reads)
        assert 2 <= result.counters.extracted <= 3
        assert result.counters.indexed == 1
        await es.indices.refresh(index=index)
        assert (await es.count(index=index))["count"] == 41
        hits = await es.search(index=index, query={"query_string": {"query": "changed"}})
        assert hits["hits"]["total"]["value"] == 1
    finally:
        await conn.close()
        await es.options(ignore_status=404).indices.delete(index=index)
