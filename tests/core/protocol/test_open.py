"""`open_store` honours config.yml's `elasticsearch.feature_use_connectors_api`: false means
the connector indices directly (as Elastic's service then does), even where the Connector API
answers; true or absent keeps the API where it exists."""

from __future__ import annotations

import pytest

from sluice.core.es import build_client
from sluice.core.protocol import ApiConnectorStore, IndexConnectorStore, open_store
from sluice.core.protocol.mappings import IndexNames
from sluice.core.protocol.open import backend_preference
from tests.fakes.fake_connector_api import FakeConnectorApi


def test_backend_preference_maps_the_flag():
    assert backend_preference({"feature_use_connectors_api": False}) == "index"
    assert backend_preference({"feature_use_connectors_api": True}) is None
    assert backend_preference({}) is None
    assert backend_preference(None) is None


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"feature_use_connectors_api": False}, IndexConnectorStore),
        ({"feature_use_connectors_api": True}, ApiConnectorStore),
        ({}, ApiConnectorStore),
    ],
)
async def test_flag_false_means_index_mode_even_where_the_api_answers(
    es, es_config, index_prefix, settings, expected
):
    names = IndexNames(index_prefix)
    with FakeConnectorApi(es_config["host"], index_prefix=index_prefix) as fake:
        config = {**es_config, "host": fake.url, **settings}
        client = build_client(config)
        try:
            store = await open_store(client, es_settings=config, index_prefix=index_prefix)
            assert type(store) is expected
            fake.requests.clear()
            await store.list_connectors()
            via_api = [r.path for r in fake.requests if r.path.startswith("/_connector")]
            assert bool(via_api) == (expected is ApiConnectorStore)
        finally:
            await client.close()
    for index in (names.connectors_concrete, names.jobs_concrete):
        await es.options(ignore_status=404).indices.delete(index=index)


async def test_an_explicit_prefer_still_wins(es, es_config, index_prefix):
    with FakeConnectorApi(es_config["host"], index_prefix=index_prefix) as fake:
        config = {**es_config, "host": fake.url, "feature_use_connectors_api": False}
        client = build_client(config)
        try:
            store = await open_store(
                client, prefer="api", es_settings=config, index_prefix=index_prefix
            )
            assert isinstance(store, ApiConnectorStore)
        finally:
            await client.close()
