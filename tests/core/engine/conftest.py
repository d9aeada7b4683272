from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from sluice.core.protocol import IndexConnectorStore
from sluice.core.protocol.mappings import IndexNames


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Failure logs of these tests go to a temporary state directory."""
    monkeypatch.setenv("SLUICE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


async def index_contents(es: AsyncElasticsearch, index: str) -> dict[str, dict[str, Any]]:
    """Every document of `index` by id (after a refresh)."""
    await es.indices.refresh(index=index)
    response = await es.search(index=index, size=10_000, query={"match_all": {}})
    return {hit["_id"]: hit["_source"] for hit in response["hits"]["hits"]}


@pytest.fixture
async def contents(es: AsyncElasticsearch) -> AsyncIterator[Any]:
    async def read(index: str) -> dict[str, dict[str, Any]]:
        return await index_contents(es, index)

    yield read


@pytest.fixture
async def store(es: AsyncElasticsearch) -> AsyncIterator[IndexConnectorStore]:
    """A connector store on a private pair of connector/job indices (removed afterwards)."""
    prefix = f"sluice-test-{uuid.uuid4().hex[:8]}"
    store = IndexConnectorStore(es, index_prefix=prefix)
    await store.ensure_indices()
    yield store
    names = IndexNames(prefix)
    for index in (names.connectors_concrete, names.jobs_concrete):
        await es.options(ignore_status=404).indices.delete(index=index)
