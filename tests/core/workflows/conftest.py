"""The connector-store backends of tests/core/protocol (private indices per test), reused:
a workflow must behave the same on the Connector API and on direct index access."""

import pytest

from sluice.core.es import build_client
from sluice.core.protocol import IndexConnectorStore
from sluice.core.protocol.mappings import IndexNames
from tests.core.protocol.conftest import harness, index_prefix
from tests.fakes.fake_security import FakeElasticsearch

__all__ = ["harness", "index_prefix"]


@pytest.fixture
async def security_fake(es_config, index_prefix):
    """The local cluster behind a fake that answers the Security API (security off: the
    fake answers only what a test queues, like a cluster without API keys otherwise)."""
    with FakeElasticsearch(upstream=es_config["host"]) as fake:
        fake.cluster.security = "off"
        client = build_client({**es_config, "host": fake.url})
        store = IndexConnectorStore(client, index_prefix=index_prefix)
        await store.ensure_indices()
        try:
            yield fake, client, store
        finally:
            names = IndexNames(index_prefix)
            for index in (names.connectors_concrete, names.jobs_concrete):
                await client.options(ignore_status=404).indices.delete(index=index)
            await client.close()
