"""A job a service runs is watched through ONE client: the connections a proxy sees stop
growing after the first read, however often the record is read, and close() ends them."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from sluice.core.es import build_client
from sluice.core.protocol import JobType, TriggerMethod, open_store
from sluice.core.workflows.job_watcher import JobWatcher
from tests.fakes.counting_proxy import CountingProxy
from tests.leftovers import UNIQUE_TOKENS

pytestmark = pytest.mark.es


async def _pending_job(es_config) -> str:
    token = uuid.uuid4().hex[:8]
    UNIQUE_TOKENS.add(token)  # the connector is deleted at the end of the session
    client = build_client(es_config)
    try:
        store = await open_store(client, es_settings=es_config)
        connector = await store.create_connector(
            index_name=f"search-sluice-test-watch-{token}", service_type="dir", name=f"w {token}"
        )
        return await store.create_job(connector.id, JobType.FULL, TriggerMethod.ON_DEMAND)
    finally:
        await client.close()


async def _until_closed(proxy: CountingProxy) -> None:
    for _ in range(100):
        if proxy.open == 0:
            return
        await asyncio.sleep(0.02)


async def test_many_reads_and_a_cancel_use_one_client(es_config):
    job_id = await _pending_job(es_config)
    with CountingProxy(es_config["host"]) as proxy:
        watcher = JobWatcher({**es_config, "host": proxy.url}, job_id)
        try:
            first = await watcher.read()
            assert first is not None and first.status == "pending" and first.job_id == job_id
            after_first = proxy.accepted
            assert after_first >= 1
            for _ in range(8):
                reading = await watcher.read()
                assert reading is not None and reading.status == "pending"
            await watcher.cancel()
            reading = await watcher.read()
            assert reading is not None and reading.status in ("canceling", "canceled")
            assert proxy.accepted == after_first  # no new client, no new connection
        finally:
            await watcher.close()
        await _until_closed(proxy)
        assert proxy.open == 0  # close() ended the client's connections


async def test_an_unknown_job_reads_as_none(es_config):
    watcher = JobWatcher(es_config, "no-such-job-" + uuid.uuid4().hex)
    try:
        assert await watcher.read() is None
    finally:
        await watcher.close()


async def test_a_guard_stopped_service_job_is_confirmed_with_a_new_job(es_config, tmp_path):
    """The dashboard's `d` on a job a service runs: the watcher reads the guard's stop from
    the record and queues a new job whose metadata carries the confirmation, which the
    service's runner honours."""
    from sluice.core.engine.deletion_guard import MINIMUM_KEY
    from sluice.core.engine.runner import run_job
    from sluice.sources.registry import create_source

    folder = tmp_path / "share"
    folder.mkdir()
    for n in range(50):
        (folder / f"f-{n}.txt").write_text(f"text {n}\n")
    token = uuid.uuid4().hex[:8]
    UNIQUE_TOKENS.add(token)
    index = f"search-sluice-test-confirm-{token}"
    client = build_client(es_config)
    try:
        store = await open_store(client, es_settings=es_config)
        connector = await store.create_connector(index_name=index, service_type="dir", name=token)
        values = {"directory": str(folder), MINIMUM_KEY: 10}
        await store.update_configuration(
            connector.id, schema=create_source("dir", values).configuration
        )

        async def service_runs(job_id: str):  # what `sluice run` does with a pending job
            job = await store.get_job(job_id)
            return await run_job(store, client, job, create_source, worker_hostname="svc")

        first = await service_runs(await store.create_job(connector.id, JobType.FULL))
        assert first.counters.indexed == 50
        for n in range(30):
            (folder / f"f-{n}.txt").unlink()
        stopped_id = await store.create_job(connector.id, JobType.FULL)
        assert (await service_runs(stopped_id)).deletion_guard is not None

        watcher = JobWatcher(es_config, stopped_id)
        try:
            reading = await watcher.read()
            assert reading is not None and reading.status == "error"
            assert reading.deletion_guard is not None and reading.deletion_guard.stale == 30
            new_id = await watcher.confirm_deletions(30)
        finally:
            await watcher.close()

        new_job = await store.get_job(new_id)
        assert new_job.metadata["sluice"]["confirm_deletions"] == 30
        result = await service_runs(new_id)
        assert result.counters.deleted == 30
        assert result.reconciliation is not None and result.reconciliation.matches
    finally:
        await client.options(ignore_status=404).indices.delete(index=index)
        await client.close()
