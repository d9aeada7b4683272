"""The engine under push-back from Elasticsearch (a fake, since noida-db never rejects)."""

from __future__ import annotations

from core.engine.engine import SyncEngine, SyncRequest
from core.engine.progress import SyncStatus
from core.engine.settings import EngineSettings
from core.es import build_client
from tests.core.engine.memory_source import MemorySource, make_docs
from tests.fakes.fake_bulk_rejections import FakeBulkRejections

FAST = EngineSettings(chunk_size=20, bulk_initial_backoff=0.01, max_concurrency=2)


async def run_against(fake: FakeBulkRejections, count: int) -> object:
    client = build_client({"host": fake.url, "max_retries": 1, "initial_backoff_duration": 0.01})
    try:
        engine = SyncEngine(client, FAST)
        return await engine.run(MemorySource(make_docs(count)), SyncRequest(index_name="search-x"))
    finally:
        await client.close()


async def test_rejected_items_are_retried_with_backoff_until_they_land():
    with FakeBulkRejections(reject_first=2) as fake:
        result = await run_against(fake, 50)
    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.counters.indexed == 50 and result.counters.failed == 0
    assert set(fake.attempts.values()) == {3}  # two rejections, then accepted


async def test_items_still_rejected_after_the_retries_fail_with_their_reason():
    with FakeBulkRejections(reject_first=10) as fake:
        result = await run_against(fake, 30)
    assert result.status is SyncStatus.ERROR
    assert "es_rejected_execution_exception" in (result.error or "")
    assert set(fake.attempts.values()) <= {FAST.bulk_max_retries + 1}


async def test_an_unavailable_cluster_fails_the_sync_with_a_clear_reason():
    with FakeBulkRejections(fail_all=True) as fake:
        result = await run_against(fake, 40)
    assert result.status is SyncStatus.ERROR
    assert "too many document errors" in (result.error or "")
    assert "503" in (result.error or "")


async def test_an_unreachable_cluster_is_a_clear_error_not_a_traceback():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    client = build_client({"host": f"http://127.0.0.1:{port}", "max_retries": 0})
    try:
        engine = SyncEngine(client, FAST)
        result = await engine.run(MemorySource(make_docs(3)), SyncRequest(index_name="search-x"))
    finally:
        await client.close()
    assert result.status is SyncStatus.ERROR
    assert (result.error or "").startswith("cannot reach Elasticsearch")


async def test_a_pipeline_the_key_cannot_read_is_still_used():
    """Elastic's least-privilege connector key may not read pipelines (403)."""
    with FakeBulkRejections(reject_first=0, pipeline_status=403) as fake:
        client = build_client({"host": fake.url, "max_retries": 0})
        try:
            request = SyncRequest(index_name="search-x", pipeline="search-default-ingestion")
            result = await SyncEngine(client, FAST).run(MemorySource(make_docs(5)), request)
        finally:
            await client.close()
    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.pipeline == "search-default-ingestion"
    assert fake.bulk_paths and all(
        "pipeline=search-default-ingestion" in path for path in fake.bulk_paths
    )


async def test_an_existing_pipeline_is_used_and_a_missing_one_skipped():
    for status, expected in ((200, "my-pipeline"), (404, None)):
        with FakeBulkRejections(reject_first=0, pipeline_status=status) as fake:
            client = build_client({"host": fake.url, "max_retries": 0})
            try:
                request = SyncRequest(index_name="search-x", pipeline="my-pipeline")
                result = await SyncEngine(client, FAST).run(MemorySource(make_docs(2)), request)
            finally:
                await client.close()
        assert result.pipeline == expected
        assert all(("pipeline=" in p) == (expected is not None) for p in fake.bulk_paths)
