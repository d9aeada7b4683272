"""The engine under push-back from Elasticsearch (a fake, since noida-db never rejects)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sluice.core.config import SLUICE_ONLY_KEYS, config_from_text
from sluice.core.engine.engine import SyncEngine, SyncRequest
from sluice.core.engine.failures import FailureLog, read_failures
from sluice.core.engine.progress import FinishedEvent, Resumed, Stalled, SyncStatus
from sluice.core.engine.settings import EngineSettings
from sluice.core.es import build_client
from tests.core.engine.memory_source import MemorySource, make_docs
from tests.fakes.fake_black_hole import FakeBlackHole
from tests.fakes.fake_bulk_rejections import FakeBulkRejections

FAST = EngineSettings(
    chunk_size=20, bulk_initial_backoff=0.01, bulk_retry_interval=0.01, max_concurrency=2
)


async def run_against(
    fake: FakeBulkRejections,
    count: int,
    settings: EngineSettings = FAST,
    listener: Any = None,
    client_settings: dict[str, Any] | None = None,
    failure_log: FailureLog | None = None,
) -> Any:
    # The client's own retries stay low on purpose: a stalled bulk request must be carried
    # by the sink's retries (bulk.max_retries), not by luck in the transport's.
    options = {"host": fake.url, "max_retries": 1, "initial_backoff_duration": 0.01}
    client = build_client({**options, **(client_settings or {})})
    try:
        engine = SyncEngine(client, settings, listener=listener, failure_log=failure_log)
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
    assert max(fake.attempts.values()) == FAST.bulk_max_retries + 1


async def test_a_bulk_request_that_times_out_is_retried_and_the_stall_reported(tmp_path: Path):
    """A loaded node that does not answer three requests in a row: retried (visibly), and
    nothing counts as failed."""
    events: list[Any] = []
    one_at_a_time = EngineSettings(
        chunk_size=20, bulk_retry_interval=0.01, bulk_max_retries=5, max_concurrency=1
    )
    log_path = tmp_path / "failures.ndjson"
    with FakeBulkRejections(reject_first=0, stall_requests=3, stall_seconds=1.0) as fake:
        result = await run_against(
            fake,
            50,
            one_at_a_time,
            events.append,
            {"request_timeout": 0.3},
            FailureLog(log_path),
        )
    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.counters.indexed == 50 and result.counters.failed == 0
    assert not log_path.exists()
    stalls = [e for e in events if isinstance(e, Stalled)]
    assert [(s.attempt, s.max_attempts) for s in stalls] == [(1, 5), (2, 5), (3, 5)]
    assert all(s.since == stalls[0].since for s in stalls)  # one stall, growing older
    assert stalls[0].reason == "no answer within 0.3 s"  # the client's, shorter than the bulk's
    message = stalls[-1].message(now=stalls[0].since + 40)
    assert message.startswith("Elasticsearch not answering for 40 s — retry 3 of 5")
    resumed = [e for e in events if isinstance(e, Resumed)]
    assert len(resumed) == 1 and resumed[0].after > 0
    assert events.index(resumed[0]) > events.index(stalls[-1])
    final = next(e for e in events if isinstance(e, FinishedEvent))
    assert final.snapshot.stalled is None


async def test_a_black_holed_bulk_request_is_a_stall_within_the_bulk_timeout():
    """A connection that takes requests and never answers: with the client's 240 s timeout
    the sync would sit silent for 4 minutes; `bulk.request_timeout` ends each try sooner,
    shows the stall live, and the retries carry the documents through."""
    seen: list[tuple[float, Any]] = []
    settings = EngineSettings(
        chunk_size=20, bulk_retry_interval=0.01, max_concurrency=1, bulk_request_timeout=0.5
    )
    started = time.time()
    with FakeBlackHole(swallow=2) as fake:
        result = await asyncio.wait_for(
            run_against(
                fake,
                30,
                settings,
                lambda event: seen.append((time.time(), event)),
                {"request_timeout": 240},
            ),
            timeout=20,
        )
    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.counters.indexed == 30 and result.counters.failed == 0
    stalls = [(at, e) for at, e in seen if isinstance(e, Stalled)]
    assert [e.attempt for _, e in stalls] == [1, 2]
    first_at, first = stalls[0]
    assert first.reason == "no answer within 0.5 s"
    assert 0.5 <= first_at - started < 5  # noticed after the bulk timeout, not the client's
    assert first.message(now=first.since + 1).startswith("Elasticsearch not answering for 1 s")
    assert any(isinstance(e, Resumed) for _, e in seen)


def test_the_bulk_timeout_is_a_sluice_only_config_key_with_a_short_default():
    config = config_from_text("elasticsearch.bulk.request_timeout: 15\n", environ={})
    assert config.warnings == []
    assert EngineSettings.from_bulk_config(config.bulk).bulk_request_timeout == 15.0
    assert EngineSettings.from_bulk_config({}).bulk_request_timeout == 60.0
    assert "elasticsearch.bulk.request_timeout" in SLUICE_ONLY_KEYS


async def test_503_answers_are_retried_until_the_cluster_recovers():
    events: list[Any] = []
    with FakeBulkRejections(reject_first=0, unavailable_requests=2) as fake:
        settings = EngineSettings(chunk_size=20, bulk_retry_interval=0.01, max_concurrency=1)
        result = await run_against(fake, 30, settings, events.append)
    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.counters.failed == 0 and result.counters.indexed == 30
    stalls = [e for e in events if isinstance(e, Stalled)]
    assert [s.attempt for s in stalls] == [1, 2] and "HTTP 503" in stalls[0].reason


async def test_an_outage_ends_the_sync_as_unreachable_not_as_bad_documents(tmp_path: Path):
    settings = EngineSettings(chunk_size=20, bulk_retry_interval=0.01, bulk_max_retries=2)
    log_path = tmp_path / "failures.ndjson"
    with FakeBulkRejections(fail_all=True) as fake:
        result = await run_against(fake, 40, settings, failure_log=FailureLog(log_path))
        requests = fake.requests
    assert result.status is SyncStatus.ERROR
    assert (result.error or "").startswith("Elasticsearch unreachable: ")
    assert "503" in (result.error or "") and "too many document errors" not in result.error
    assert requests >= settings.bulk_max_retries + 1  # each request was retried first
    entries = list(read_failures(log_path))
    assert entries and entries[0]["name"].startswith("Title ")  # the documents, by name


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
