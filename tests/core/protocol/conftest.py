"""Backends under test, each isolated from other tests and other helpers:

- `index`: direct index access on SLUICE_ES_URL, with a private pair of connector indices
  (a per-test index prefix, test-only);
- `api-fake`: the Connector-API backend against tests/fakes/fake_connector_api.py (a fake in
  front of SLUICE_ES_URL, same private indices);
- `api`: the Connector-API backend against SLUICE_ES_URL itself, only when that cluster has
  the API (a real Elasticsearch 8.12+); Elastic's real index names, unique connector ids,
  everything it created removed afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from sluice.core.es import build_client
from sluice.core.protocol import (
    ApiConnectorStore,
    Connector,
    ConnectorStore,
    IndexConnectorStore,
    connector_api_available,
)
from sluice.core.protocol.mappings import IndexNames
from tests.fakes.fake_connector_api import FakeConnectorApi

pytestmark = pytest.mark.es

BACKENDS = ["index", "api-fake", "api"]


@dataclass
class Harness:
    """A store plus what the test created, for assertions and cleanup."""

    backend: str
    store: ConnectorStore
    es: AsyncElasticsearch  # talks to the same cluster; direct reads for assertions
    names: IndexNames
    settings: dict[str, Any]
    fake: FakeConnectorApi | None = None
    client: AsyncElasticsearch | None = None  # what the store talks to
    connector_ids: list[str] = field(default_factory=list)

    async def connector(self, **overrides: Any) -> Connector:
        suffix = uuid.uuid4().hex[:10]
        kwargs: dict[str, Any] = {
            "index_name": f"search-sluice-test-{suffix}",
            "service_type": "dir",
            "name": f"sluice test {suffix}",
        }
        kwargs.update(overrides)
        created = await self.store.create_connector(**kwargs)
        self.connector_ids.append(created.id)
        return created

    async def raw_connector(self, connector_id: str) -> dict[str, Any]:
        resp = await self.es.options(headers={"X-elastic-product-origin": "connectors"}).get(
            index=self.names.connectors, id=connector_id
        )
        return resp["_source"]

    async def raw_job(self, job_id: str) -> dict[str, Any]:
        resp = await self.es.options(headers={"X-elastic-product-origin": "connectors"}).get(
            index=self.names.jobs, id=job_id
        )
        return resp["_source"]


async def _drop_private_indices(es: AsyncElasticsearch, names: IndexNames) -> None:
    for index in (names.connectors_concrete, names.jobs_concrete):
        await es.options(ignore_status=404).indices.delete(index=index)


async def _drop_created(es: AsyncElasticsearch, names: IndexNames, ids: list[str]) -> None:
    """On a shared real cluster: remove exactly what the test created."""
    if not ids:
        return
    direct = es.options(headers={"X-elastic-product-origin": "connectors"}, ignore_status=404)
    await direct.delete_by_query(
        index=names.jobs, query={"terms": {"connector.id": ids}}, refresh=True
    )
    for connector_id in ids:
        await direct.delete(index=names.connectors, id=connector_id, refresh=True)


@pytest.fixture
def index_prefix() -> str:
    return f"sluice-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=BACKENDS)
async def harness(
    request: pytest.FixtureRequest, es: AsyncElasticsearch, es_config: dict, index_prefix: str
) -> AsyncIterator[Harness]:
    backend = request.param
    if backend == "index":
        names = IndexNames(index_prefix)
        store: ConnectorStore = IndexConnectorStore(es, index_prefix=index_prefix)
        await store.ensure_indices()
        h = Harness(backend, store, es, names, es_config)
        try:
            yield h
        finally:
            await _drop_private_indices(es, names)
    elif backend == "api-fake":
        names = IndexNames(index_prefix)
        fake = FakeConnectorApi(es_config["host"], index_prefix=index_prefix).start()
        client = build_client({**es_config, "host": fake.url})
        store = ApiConnectorStore(client, index_prefix=index_prefix)
        h = Harness(
            backend, store, es, names, {**es_config, "host": fake.url}, fake=fake, client=client
        )
        try:
            yield h
        finally:
            await client.close()
            fake.stop()
            await _drop_private_indices(es, names)
    else:
        if not await connector_api_available(es):
            pytest.skip("SLUICE_ES_URL has no Connector API (needs a real Elasticsearch 8.12+)")
        names = IndexNames("")
        store = ApiConnectorStore(es)
        h = Harness(backend, store, es, names, es_config)
        try:
            yield h
        finally:
            await _drop_created(es, names, h.connector_ids)
