"""Sluice's service next to Elastic's, on the real server: connectors of a type Sluice's
engine does not run (`runs_type` says no, as `sluice run` wires it) are left to Elastic's
service — no check-in, no schema, no job claimed, no stale job failed — while the other
connectors of the same config.yml are served as always."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from sluice.core.config.loader import config_from_mapping
from sluice.core.protocol import ConnectorStatus, ConnectorStore, JobStatus, open_store
from sluice.core.protocol.timeutil import to_iso, utc_now
from sluice.core.service import ConnectorService
from sluice.sources.registry import create_source, get_source_class, runs_in_sluice

pytestmark = pytest.mark.es

ORIGIN = {"X-elastic-product-origin": "connectors"}
ELASTIC_WORKER = "fake-elastic-service"


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


async def new_connector(
    store: ConnectorStore, service_type: str, values: dict[str, Any] | None = None
) -> str:
    suffix = uuid.uuid4().hex[:10]
    connector = await store.create_connector(
        index_name=f"search-sluice-test-{suffix}",
        service_type=service_type,
        name=f"svc {service_type} {suffix}",
    )
    store.created.append(connector.id)  # type: ignore[attr-defined]
    if values is not None:
        schema = get_source_class(service_type).get_default_configuration()
        await store.update_configuration(connector.id, schema=schema, values=values)
    return connector.id


async def test_confluence_connectors_are_left_to_elastics_service(
    store, es, es_config, tmp_path, caplog
):
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(3):
        (folder / f"{n}.txt").write_text(f"doc {n}")
    ours = await new_connector(store, "dir", {"directory": str(folder)})
    our_job = await store.create_job(ours)

    waiting = await new_connector(store, "confluence")  # created, empty, as Kibana leaves it
    waiting_job = await store.create_job(waiting)

    # a confluence job Elastic's service claimed and has not reported on for an hour
    running = await new_connector(store, "confluence")
    running_job = await store.create_job(running)
    assert await store.claim_job(running_job, ELASTIC_WORKER)
    an_hour_ago = to_iso(utc_now() - timedelta(hours=1))
    await es.options(headers=ORIGIN).update(
        index=".elastic-connectors-sync-jobs",
        id=running_job,
        doc={"last_seen": an_hour_ago},
        refresh=True,
    )

    config = config_from_mapping(
        {
            "elasticsearch": es_config,
            "connectors": [
                {"connector_id": ours, "service_type": "dir"},
                {"connector_id": waiting, "service_type": "confluence"},
                {"connector_id": running, "service_type": "confluence"},
            ],
            "service": {"idling": 1},
        }
    )
    asked: list[str] = []

    def schema_provider(service_type: str) -> Any:
        asked.append(service_type)
        return get_source_class(service_type).get_default_configuration()

    service = ConnectorService(
        config,
        create_source,
        schema_provider=schema_provider,
        runs_type=runs_in_sluice,
        hostname="test-host",
    )
    ticks = 0
    tick = service.tick

    async def counted_tick() -> None:
        nonlocal ticks
        ticks += 1
        await tick()

    service.tick = counted_tick  # type: ignore[method-assign]

    async def our_job_done_after_a_few_ticks() -> bool:
        job = await store.get_job(our_job)
        return job is not None and job.is_terminal and ticks >= 3

    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="sluice.service"):
        task = asyncio.create_task(service.run(stop))
        try:
            async with asyncio.timeout(60):
                while not await our_job_done_after_a_few_ticks():
                    await asyncio.sleep(0.3)
        finally:
            stop.set()
            await task

    # the dir connector: served as always
    job = await store.get_job(our_job)
    assert job.status is JobStatus.COMPLETED, job.error
    assert job.doc["indexed_document_count"] == 3
    served = await store.get_connector(ours)
    assert served.status is ConnectorStatus.CONNECTED
    assert served.doc.get("last_seen")

    # the empty confluence connector: no check-in, no schema, its job untouched
    untouched = await store.get_connector(waiting)
    assert untouched.status is ConnectorStatus.CREATED
    assert untouched.configuration == {}
    assert not untouched.doc.get("last_seen")
    pending = await store.get_job(waiting_job)
    assert pending.status is JobStatus.PENDING
    assert not pending.worker_hostname
    assert "confluence" not in asked

    # Elastic's running job: not failed as stale by Sluice's cleanup
    claimed = await store.get_job(running_job)
    assert claimed.status is JobStatus.IN_PROGRESS, claimed.error
    assert claimed.worker_hostname == ELASTIC_WORKER
    assert [job_id for job_id, _ in service.finished_jobs] == [our_job]

    # said once per connector, not once per tick
    left = [
        r.getMessage()
        for r in caplog.records
        if r.name == "sluice.service" and "leaves it alone" in r.getMessage()
    ]
    assert len(left) == 2, left
    assert any(waiting in m and "'confluence'" in m for m in left)
    assert any(running in m and "'confluence'" in m for m in left)
    assert all("sluice deploy" in m for m in left)
