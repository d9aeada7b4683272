"""Client exceptions in words (core/protocol/es_errors.py): never a document, never a value
Elasticsearch quotes back, and a serialization failure is not blamed on the network.

Real failures against the local cluster: the stores' own writes with values the encoder or
an index mapping refuses, as issue 12 found them (a 30-digit integer beside a password).
"""

from __future__ import annotations

import pytest

from sluice.core.protocol import ConnectorStoreError, IndexConnectorStore, InvalidRequest
from sluice.core.protocol.es_errors import translated

pytestmark = pytest.mark.es

SECRET = "hunter2-Canary-7731"


def schema(**values: object) -> dict[str, dict[str, object]]:
    entries = {key: {"label": key, "type": "str", "value": value} for key, value in values.items()}
    entries["password"] = {"label": "Password", "sensitive": True, "value": SECRET}
    return entries


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (10**30, "an integer is out of the range Elasticsearch can store"),
        ("host\udcff", "a text value is not valid UTF-8"),
    ],
    ids=["30-digit integer", "undecodable text"],
)
async def test_a_value_json_cannot_hold_is_named_without_the_document(
    es, index_prefix, value, words
):
    store = IndexConnectorStore(es, index_prefix=index_prefix)
    await store.ensure_indices()
    try:
        connector = await store.create_connector(index_name="search-x", service_type="dir")
        with pytest.raises(InvalidRequest) as caught:
            await store.update_configuration(connector.id, schema=schema(fetch_size=value))
        message = str(caught.value)
        assert "the request could not be encoded as JSON, so nothing was sent" in message
        assert words in message
        assert SECRET not in message and "cannot reach" not in message
        assert "fetch_size" not in message and "{" not in message  # no document at all
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
    finally:
        for index in (store.names.connectors_concrete, store.names.jobs_concrete):
            await es.options(ignore_status=404).indices.delete(index=index)


async def test_a_field_value_elasticsearch_quotes_back_is_cut(es, index_name):
    await es.indices.create(index=index_name, mappings={"properties": {"n": {"type": "long"}}})
    with pytest.raises(ConnectorStoreError) as caught, translated("writing a document"):
        await es.index(index=index_name, document={"n": SECRET})
    message = str(caught.value)
    assert message.startswith("writing a document: Elasticsearch answered HTTP 400: ")
    assert "failed to parse field [n]" in message and "(value not shown)" in message
    assert SECRET not in message
