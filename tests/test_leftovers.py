"""The end-of-session cleanup deletes the test connectors it should, and nothing else."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from sluice.core.protocol import open_store
from tests.leftovers import forget_test_connectors, is_test_connector

pytestmark = pytest.mark.es


def test_only_test_connectors_are_recognised() -> None:
    gone, live = False, True
    assert is_test_connector({"index_name": "search-sluice-test-1a2b"}, set(), gone)
    assert not is_test_connector({"index_name": "search-sluice-test-1a2b"}, set(), live)
    assert is_test_connector({"index_name": "", "name": "monitor c0ffee12"}, {"c0ffee12"}, gone)
    assert not is_test_connector({"index_name": "", "name": "monitor c0ffee12"}, set(), gone)
    assert not is_test_connector({"index_name": "search-docs", "name": "Docs"}, {"c0ffee12"}, gone)
    assert not is_test_connector({"index_name": None, "name": None}, set(), gone)


async def test_test_connectors_and_their_jobs_are_deleted_others_kept(es, es_config) -> None:
    store = await open_store(es)
    ours = await store.create_connector(
        index_name="search-sluice-test-leftover", service_type="dir", name="leftover"
    )
    job_id = await store.create_job(ours.id)
    named = await store.create_connector(index_name="", service_type="dir", name="x 5eed5eed")
    users = await store.create_connector(index_name="", service_type="dir", name="u 0be11a01")
    live_index = f"search-sluice-test-live-{uuid.uuid4().hex[:8]}"  # a test still running
    await es.indices.create(index=live_index)
    running = await store.create_connector(index_name=live_index, service_type="dir", name="r")
    try:
        forgotten = await asyncio.to_thread(forget_test_connectors, es_config, {"5eed5eed"})
        assert forgotten >= 2
        assert await store.get_connector(ours.id, include_deleted=True) is None
        assert await store.get_connector(named.id, include_deleted=True) is None
        assert await store.get_job(job_id) is None
        assert await store.get_connector(users.id) is not None
        assert await store.get_connector(running.id) is not None
    finally:
        await es.options(ignore_status=404).indices.delete(index=live_index)
        await asyncio.to_thread(forget_test_connectors, es_config, {"0be11a01"})
        assert await store.get_connector(running.id, include_deleted=True) is None
