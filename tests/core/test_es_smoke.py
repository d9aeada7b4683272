"""Smoke test: the project's own client factory writes and reads real documents."""

import pytest

pytestmark = pytest.mark.es


async def test_write_and_read_documents(es, index_name):
    await es.indices.create(index=index_name, mappings={"properties": {"title": {"type": "text"}}})
    await es.index(index=index_name, id="doc-1", document={"title": "hello sluice"}, refresh=True)
    await es.index(index=index_name, id="doc-2", document={"title": "second"}, refresh=True)

    got = await es.get(index=index_name, id="doc-1")
    assert got["_source"] == {"title": "hello sluice"}
    count = await es.count(index=index_name)
    assert count["count"] == 2


async def test_client_speaks_http_through_httpx(es):
    info = await es.info()
    assert info["version"]["number"].startswith(("8.", "9."))
    from elastic_transport import HttpxAsyncHttpNode

    node = es.transport.node_pool.get()
    assert isinstance(node, HttpxAsyncHttpNode)
