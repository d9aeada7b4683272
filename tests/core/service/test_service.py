"""The connector service loop in process, on the real server: schema for empty connectors,
source validation into `connected`/`error`, scheduled and on-demand jobs run to the end."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sluice.core.config.loader import config_from_mapping
from sluice.core.protocol import ConnectorStatus, ConnectorStore, JobStatus, open_store
from sluice.core.service import ConnectorService
from sluice.sources.registry import create_source, get_source_class

pytestmark = pytest.mark.es


@pytest.fixture
async def store(es, monkeypatch, tmp_path) -> AsyncIterator[ConnectorStore]:
    monkeypatch.setenv("SLUICE_STATE_DIR", str(tmp_path / "state"))
    created: list[str] = []
    store = await open_store(es)
    store.created = created  # type: ignore[attr-defined]
    yield store
    for connector_id in created:
        connector = await store.get_connector(connector_id)
        if connector is not None:
            await es.options(ignore_status=404).indices.delete(index=connector.index_name)
        await store.delete_connector(connector_id)


async def new_connector(store: ConnectorStore, values: dict[str, Any] | None) -> str:
    suffix = uuid.uuid4().hex[:10]
    connector = await store.create_connector(
        index_name=f"search-sluice-test-{suffix}", service_type="dir", name=f"svc {suffix}"
    )
    store.created.append(connector.id)  # type: ignore[attr-defined]
    if values is not None:
        schema = get_source_class("dir").get_default_configuration()
        await store.update_configuration(connector.id, schema=schema, values=values)
    return connector.id


def service_for(
    es_config: dict[str, Any], connector_ids: list[str], **service: Any
) -> ConnectorService:
    config = config_from_mapping(
        {
            "elasticsearch": es_config,
            "connectors": [{"connector_id": c, "service_type": "dir"} for c in connector_ids],
            "service": {"idling": 1, **service},
        }
    )
    return ConnectorService(
        config,
        create_source,
        schema_provider=lambda t: get_source_class(t).get_default_configuration(),
        hostname="test-host",
    )


async def run_until(service: ConnectorService, predicate: Any, timeout: float = 60) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        async with asyncio.timeout(timeout):
            while not await predicate():
                await asyncio.sleep(0.3)
    finally:
        stop.set()
        await task


async def test_service_validates_sources_and_runs_pending_jobs(store, es_config, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(12):
        (folder / f"{n}.txt").write_text(f"doc {n}")
    good = await new_connector(store, {"directory": str(folder)})
    bad = await new_connector(store, {"directory": str(tmp_path / "nowhere")})
    empty = await new_connector(store, None)
    job_id = await store.create_job(good)
    service = service_for(es_config, [good, bad, empty])

    async def job_done() -> bool:
        job = await store.get_job(job_id)
        return job is not None and job.is_terminal

    await run_until(service, job_done)

    job = await store.get_job(job_id)
    assert job.status is JobStatus.COMPLETED, job.error
    assert job.doc["indexed_document_count"] == 12
    assert job.worker_hostname == "test-host"
    assert job.worker == service.identity  # this instance, not only its host
    assert job.doc["metadata"]["sluice"]["extracted"] == 12  # the runner's counters beside it
    connector = await store.get_connector(good)
    assert connector.status is ConnectorStatus.CONNECTED
    assert connector.doc["last_seen"]
    failing = await store.get_connector(bad)
    assert failing.status is ConnectorStatus.ERROR
    assert "nowhere" in (failing.error or "")
    fresh = await store.get_connector(empty)
    assert fresh.status is ConnectorStatus.NEEDS_CONFIGURATION
    assert "directory" in fresh.configuration


async def test_a_failing_source_is_checked_again_and_recovers(store, es_config, tmp_path):
    folder = tmp_path / "later"
    connector_id = await new_connector(store, {"directory": str(folder)})
    service = service_for(es_config, [connector_id], heartbeat=1)

    async def status_is(wanted: ConnectorStatus) -> bool:
        connector = await store.get_connector(connector_id)
        return connector is not None and connector.status is wanted

    await run_until(service, lambda: status_is(ConnectorStatus.ERROR))
    folder.mkdir()  # the share comes back
    await run_until(service, lambda: status_is(ConnectorStatus.CONNECTED))
    assert not (await store.get_connector(connector_id)).error


async def test_stopping_after_a_job_ended_says_no_job_is_running(
    store, es_config, tmp_path, caplog
):
    """SIGTERM after the only job had finished (before the next tick reaped it): the record
    stays `completed` and the log says no job was running, not "suspending 1 running job"."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("one document")
    connector_id = await new_connector(store, {"directory": str(folder)})
    job_id = await store.create_job(connector_id)
    service = service_for(es_config, [connector_id], idling=60)  # no tick between end and stop

    async def job_finished() -> bool:
        return bool(service.finished_jobs)

    with caplog.at_level(logging.INFO, logger="sluice.service"):
        await run_until(service, job_finished)

    assert service.finished_jobs == [(job_id, "completed")]
    assert (await store.get_job(job_id)).status is JobStatus.COMPLETED
    messages = [r.getMessage() for r in caplog.records if r.name == "sluice.service"]
    assert not [m for m in messages if m.startswith("suspending")], messages
    assert "no job running" in messages
