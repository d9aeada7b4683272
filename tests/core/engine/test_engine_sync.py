"""The engine against the real Elasticsearch-compatible server (or SLUICE_ES_URL)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from sluice.core.config import config_from_text
from sluice.core.engine.engine import StopSignal, SyncEngine, SyncRequest
from sluice.core.engine.failures import FailureLog, read_failures
from sluice.core.engine.fingerprint import FINGERPRINT_FIELD
from sluice.core.engine.progress import FinishedEvent, PhaseEvent, ProgressBoard, SyncStatus
from sluice.core.engine.settings import EngineSettings
from sluice.core.engine.source import Operation, Scope, SourceFailure
from tests.core.engine.conftest import index_contents
from tests.core.engine.memory_source import MemorySource, make_docs

pytestmark = pytest.mark.es

SMALL = EngineSettings(chunk_size=50, max_concurrency=3, progress_interval=0.05)


def _strip(source: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in source.items() if k not in ("id", FINGERPRINT_FIELD)}


async def sync(
    es: AsyncElasticsearch, source: MemorySource, index: str, **kwargs: Any
) -> tuple[Any, SyncEngine]:
    request_args = {
        k: kwargs.pop(k) for k in ("incremental", "filtering", "sync_cursor") if k in kwargs
    }
    engine = SyncEngine(es, kwargs.pop("settings", SMALL), **kwargs)
    result = await engine.run(source, SyncRequest(index_name=index, **request_args))
    return result, engine


async def test_full_sync_makes_the_index_equal_to_the_source(es, index_name, contents):
    source = MemorySource(make_docs(240))
    board = ProgressBoard()
    result, _ = await sync(es, source, index_name, listener=board)

    assert result.status is SyncStatus.COMPLETED, result.error
    stored = await contents(index_name)
    assert set(stored) == set(source.docs)
    for doc_id, doc in source.docs.items():
        assert _strip(stored[doc_id]) == doc
        assert stored[doc_id]["id"] == doc_id
    assert result.counters.indexed == 240 and result.counters.updated == 0
    assert board.finished is not None and board.finished.status is SyncStatus.COMPLETED
    assert board.snapshot.counters.indexed == 240


async def test_second_full_sync_converges_after_source_changes(es, index_name, contents):
    source = MemorySource(make_docs(120))
    first, _ = await sync(es, source, index_name)
    assert first.status is SyncStatus.COMPLETED

    for i in range(10):  # removed
        del source.docs[f"doc-{i}"]
    for i in range(10, 20):  # changed
        source.docs[f"doc-{i}"]["title"] = f"changed {i}"
    for i in range(5):  # added
        source.docs[f"new-{i}"] = {"title": f"new {i}", "_timestamp": "2026-02-01T00:00:00+00:00"}

    second, _ = await sync(es, source, index_name)
    assert second.status is SyncStatus.COMPLETED, second.error
    stored = await contents(index_name)
    assert set(stored) == set(source.docs)
    assert stored["doc-15"]["title"] == "changed 15"
    assert second.counters.deleted == 10
    assert second.counters.indexed == 5
    # only the changed ones are sent again; the others are unchanged
    assert (second.counters.updated, second.counters.unchanged) == (10, 100)


async def test_failing_source_deletes_nothing(es, index_name, contents):
    await sync(es, MemorySource(make_docs(100)), index_name)

    broken = MemorySource(make_docs(100), fail_after=50)
    del broken.docs["doc-10"]  # would be stale if the extraction had finished
    result, _ = await sync(es, broken, index_name)

    assert result.status is SyncStatus.ERROR
    assert "connection lost after 50 documents" in (result.error or "")
    assert result.counters.deleted == 0
    stored = await contents(index_name)
    assert len(stored) == 100 and "doc-10" in stored


async def test_incremental_without_cursor_skips_unchanged_documents(es, index_name, contents):
    source = MemorySource(make_docs(60))
    await sync(es, source, index_name)

    source.docs["doc-1"].update(title="edited", _timestamp="2026-03-01T00:00:00+00:00")
    del source.docs["doc-2"]
    source.docs["doc-new"] = {"title": "new", "_timestamp": "2026-03-01T00:00:00+00:00"}
    result, _ = await sync(es, source, index_name, incremental=True)

    assert result.status is SyncStatus.COMPLETED, result.error
    c = result.counters
    assert (c.unchanged, c.updated, c.indexed, c.deleted) == (58, 1, 1, 1)
    stored = await contents(index_name)
    assert set(stored) == set(source.docs)
    assert stored["doc-1"]["title"] == "edited"


async def test_incremental_with_cursor_applies_only_the_changes(es, index_name, contents):
    source = MemorySource(make_docs(20))
    source.cursor_mode = True
    first, _ = await sync(es, source, index_name)
    assert first.sync_cursor == {"version": 20}

    source.changes = [
        (
            {"_id": "doc-3", "title": "updated", "_timestamp": "2026-04-01T00:00:00+00:00"},
            Operation.UPDATE,
        ),
        ({"_id": "doc-4"}, Operation.DELETE),
        (
            {"_id": "doc-99", "title": "added", "_timestamp": "2026-04-01T00:00:00+00:00"},
            Operation.INDEX,
        ),
    ]
    result, _ = await sync(es, source, index_name, incremental=True, sync_cursor=first.sync_cursor)

    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.sync_cursor == {"version": 21}
    c = result.counters
    assert (c.extracted, c.indexed, c.updated, c.deleted) == (3, 1, 1, 1)
    stored = await contents(index_name)
    assert len(stored) == 20
    assert stored["doc-3"]["title"] == "updated" and "doc-4" not in stored


def _rule(rule_id: str, policy: str, field: str, kind: str, value: str, order: int) -> dict:
    return {
        "id": rule_id,
        "policy": policy,
        "field": field,
        "rule": kind,
        "value": value,
        "order": order,
    }


async def test_sync_rules_include_and_exclude(es, index_name, contents):
    source = MemorySource(make_docs(30))
    await sync(es, source, index_name)

    filtering = {
        "rules": [
            _rule("keep-7", "include", "n", "equals", "7", 0),
            _rule("small", "exclude", "n", "<", "10", 1),
            _rule("DEFAULT", "include", "_", "regex", ".*", 2),
        ]
    }
    result, _ = await sync(es, source, index_name, filtering=filtering)

    assert result.status is SyncStatus.COMPLETED, result.error
    stored = await contents(index_name)
    assert set(stored) == {"doc-7"} | {f"doc-{i}" for i in range(10, 30)}
    assert result.counters.deleted == 9 and result.counters.skipped == 9
    assert source.filtering_seen == filtering  # advanced rules reach the source


@pytest.mark.parametrize("how", ["cancel", "suspend"])
async def test_stop_requests_end_the_sync_fast_and_delete_nothing(es, index_name, contents, how):
    await sync(es, MemorySource(make_docs(30)), index_name)
    slow = MemorySource(make_docs(10_000), delay=0.01)
    slow.countable = True
    stop = StopSignal()
    board = ProgressBoard()
    engine = SyncEngine(es, SMALL, stop=stop, listener=board)
    task = asyncio.create_task(engine.run(slow, SyncRequest(index_name=index_name)))
    await asyncio.sleep(0.5)
    asked = time.monotonic()
    stop.cancel() if how == "cancel" else stop.suspend()
    result = await task
    assert time.monotonic() - asked < 1.0
    assert result.status is (SyncStatus.CANCELED if how == "cancel" else SyncStatus.SUSPENDED)
    assert result.counters.deleted == 0
    assert 0 < result.counters.extracted < 10_000
    assert len(await contents(index_name)) >= 30
    final = board.finished.snapshot  # the bar stays where it stopped, with no ETA
    assert final.status is result.status and 0 < final.fraction < 0.5
    assert final.eta_seconds is None


async def test_failure_log_records_bad_documents_and_the_sync_goes_on(es, index_name, tmp_path):
    docs = make_docs(40)
    docs["doc-6"]["_timestamp"] = "not a date"  # rejected by the index mapping
    docs["big"] = {"body": "x" * 3000, "_timestamp": "2026-01-01T00:00:00+00:00"}
    source = MemorySource(docs)
    source.errors["doc-5"] = "PDF is corrupt: no trailer"
    log_path = tmp_path / "failures.ndjson"
    settings = EngineSettings(chunk_size=50, max_document_size=2000)
    result, _ = await sync(
        es, source, index_name, settings=settings, failure_log=FailureLog(log_path)
    )

    assert result.status is SyncStatus.COMPLETED, result.error
    entries = {e["id"]: e for e in read_failures(log_path)}
    assert entries["doc-5"]["operation"] == "extract"
    assert "PDF is corrupt" in entries["doc-5"]["reason"]
    assert entries["doc-6"]["operation"] == "index"
    assert "parse" in entries["doc-6"]["reason"]
    assert "over the" in entries["big"]["reason"]
    assert result.counters.failed == 2  # doc-5 (extraction) and doc-6 (rejected)
    assert result.counters.skipped == 1  # too big
    assert result.counters.indexed == 39  # doc-5 keeps its metadata


async def test_error_budget_fails_a_sync_where_everything_fails(es, index_name):
    docs = {f"d{i}": {"_timestamp": f"bad {i}"} for i in range(30)}
    result, _ = await sync(es, MemorySource(docs), index_name)
    assert result.status is SyncStatus.ERROR
    assert "too many document errors" in (result.error or "")
    assert "in a row" in (result.error or "")


def _monitored(error_monitor: str) -> EngineSettings:
    """Engine settings of a config.yml with this `bulk.error_monitor` (flow mapping), one
    request at a time so the order of outcomes is the source's."""
    config = config_from_text(
        f"elasticsearch.bulk.error_monitor: {{{error_monitor}}}\n", environ={}
    )
    settings = EngineSettings.from_config(config)
    return dataclasses.replace(settings, chunk_size=50, max_concurrency=1, progress_interval=0.05)


def _rejected(count: int, prefix: str = "bad") -> dict[str, dict[str, Any]]:
    """Documents the server refuses (`_timestamp` is not a date)."""
    return {f"{prefix}{i:03}": {"_timestamp": f"not a date {i}"} for i in range(count)}


async def test_error_monitor_of_config_yml_trips_on_total_errors(es, index_name):
    settings = _monitored("max_total_errors: 15, max_consecutive_errors: 100, max_error_rate: 1")
    result, _ = await sync(es, MemorySource(_rejected(30)), index_name, settings=settings)
    assert result.status is SyncStatus.ERROR
    assert "16 documents failed, over elasticsearch.bulk.error_monitor.max_total_errors (15)" in (
        result.error or ""
    )
    assert "enabled: false" in (result.error or "")  # says how to turn it off
    assert result.counters.failed == 16  # Elastic trips when the limit is exceeded


async def test_error_monitor_trips_on_the_error_rate_before_its_window_fills(es, index_name):
    """Elastic's window counts operations not yet seen as successes: 3 errors among the first
    operations are 3/20 of a 20-operation window, over a 10 % rate."""
    docs = {**_rejected(3), **make_docs(60)}
    settings = _monitored("max_error_rate: 0.1, error_window_size: 20")
    result, _ = await sync(es, MemorySource(docs), index_name, settings=settings)
    assert result.status is SyncStatus.ERROR
    assert "3 of the last 20 operations failed" in (result.error or "")
    assert "max_error_rate (0.1)" in (result.error or "")


async def test_a_disabled_error_monitor_only_counts(es, index_name, contents):
    docs = {**_rejected(30), **make_docs(5)}
    settings = _monitored("enabled: false")
    result, _ = await sync(es, MemorySource(docs), index_name, settings=settings)
    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.counters.failed == 30
    assert set(await contents(index_name)) == set(make_docs(5))


async def test_long_ids_are_hashed_and_stable(es, index_name, contents):
    long_id = "x" * 600
    source = MemorySource({long_id: {"title": "long", "_timestamp": "2026-01-01T00:00:00+00:00"}})
    await sync(es, source, index_name)
    await sync(es, source, index_name)
    stored = await contents(index_name)
    assert len(stored) == 1
    (doc_id,) = stored
    assert doc_id == hashlib.md5(long_id.encode()).hexdigest()  # Elastic's hash_id
    assert stored[doc_id]["id"] == long_id


async def test_phases_are_reported_in_order(es, index_name):
    events: list[Any] = []
    await sync(es, MemorySource(make_docs(5)), index_name, listener=events.append)
    phases = [e.phase.value for e in events if isinstance(e, PhaseEvent)]
    assert phases == ["extracting", "finishing", "done"]  # a new index: nothing to delete
    assert isinstance(events[-1], FinishedEvent)

    events.clear()
    await sync(es, MemorySource(make_docs(5)), index_name, incremental=True, listener=events.append)
    phases = [e.phase.value for e in events if isinstance(e, PhaseEvent)]
    assert phases == [
        "listing indexed documents",
        "extracting",
        "deleting stale documents",
        "finishing",
        "done",
    ]


async def test_missing_pipeline_is_skipped_not_fatal_but_said(es, index_name, contents):
    source = MemorySource(make_docs(3))
    board = ProgressBoard()
    engine = SyncEngine(es, SMALL, listener=board)
    result = await engine.run(
        source, SyncRequest(index_name=index_name, pipeline="sluice-no-such-pipeline")
    )
    assert result.status is SyncStatus.COMPLETED and result.pipeline is None
    assert len(await contents(index_name)) == 3
    assert result.notices == [
        "ingest pipeline 'sluice-no-such-pipeline' doesn't exist on this cluster: indexed "
        "without it (no pipeline processing; Elastic's connector service would fail this "
        "sync) — create it, or set the connector's pipeline to one that exists"
    ]
    assert board.snapshot.notices == tuple(result.notices)  # what a dashboard shows


# ---------------------------------------------------------------- mapping preflight


async def elastic_dir_index(es, index: str) -> None:
    """An index as Elastic's `dir` source leaves it: times as float epoch seconds."""
    await es.indices.create(
        index=index,
        mappings={
            "properties": {
                "ctime": {"type": "float"},
                "mtime": {"type": "float"},
                "mode": {"type": "keyword"},
                "size_bytes": {"type": "long"},
                "_timestamp": {"type": "date"},
            }
        },
    )
    for n in range(2):
        await es.index(index=index, id=f"old-{n}", document={"ctime": 1.7e9 + n, "mode": "644"})
    await es.indices.refresh(index=index)


def files(count: int, **fields: Any) -> dict[str, dict[str, Any]]:
    return {
        f"doc-{i}": {
            "title": f"file {i}",
            "path": f"/srv/files/f{i}.txt",
            "mode": "rw-r--r--",
            "_timestamp": "2026-01-01T00:00:00+00:00",
            **fields,
        }
        for i in range(count)
    }


async def test_an_index_whose_mapping_does_not_fit_fails_before_any_write(
    es, index_name, contents, tmp_path
):
    await elastic_dir_index(es, index_name)
    docs = files(50, ctime="2026-01-02T03:04:05+00:00", mtime="2026-01-02T03:04:05+00:00")
    log_path = tmp_path / "failures.ndjson"
    result, _ = await sync(es, MemorySource(docs), index_name, failure_log=FailureLog(log_path))

    assert result.status is SyncStatus.ERROR
    assert result.error == (
        f"the index {index_name} does not fit these documents: field ctime is mapped as float "
        'but Sluice sends a string ("2026-01-02T03:04:05+00:…"): not a number; field mtime is '
        'mapped as float but Sluice sends a string ("2026-01-02T03:04:05+00:…"): not a number '
        f"(seen in /srv/files/f0.txt) — sync into a new index, or reindex {index_name} with "
        "mappings that fit"
    )
    c = result.counters
    assert (c.indexed, c.updated, c.failed, c.deleted) == (0, 0, 0, 0)
    assert list(read_failures(log_path)) == []  # no document failed one by one
    assert set(await contents(index_name)) == {"old-0", "old-1"}  # untouched


async def test_a_conflict_first_seen_later_stops_the_sync_before_that_document(
    es, index_name, contents
):
    await elastic_dir_index(es, index_name)
    docs = files(300, ctime=1.7e9)
    docs["doc-200"]["size_bytes"] = "12 KB"  # the first document with this field
    result, _ = await sync(es, MemorySource(docs), index_name)

    assert result.status is SyncStatus.ERROR
    assert "field size_bytes is mapped as long but Sluice sends a string" in (result.error or "")
    assert "(seen in /srv/files/f200.txt)" in (result.error or "")
    assert result.counters.indexed == 200 and result.counters.failed == 0
    stored = await contents(index_name)
    assert "doc-199" in stored and "doc-200" not in stored
    assert {"old-0", "old-1"} <= set(stored)  # a failed sync deletes nothing


async def test_documents_that_fit_an_existing_index_sync_as_before(es, index_name, contents):
    await elastic_dir_index(es, index_name)
    docs = files(120, ctime=1.7e9, size_bytes="2048")  # a numeric string: coerced
    result, _ = await sync(es, MemorySource(docs), index_name)
    assert result.status is SyncStatus.COMPLETED, result.error
    assert set(await contents(index_name)) == set(docs)  # the old documents were stale


async def test_an_index_that_ignores_malformed_values_is_no_conflict(es, index_name, contents):
    """Its setting is every field's default: Elasticsearch keeps such documents (without the
    value), so the preflight must not stop the sync."""
    await es.indices.create(
        index=index_name,
        settings={"index.mapping.ignore_malformed": True},
        mappings={"properties": {"ctime": {"type": "float"}}},
    )
    result, _ = await sync(es, MemorySource(files(5, ctime="2026-01-02")), index_name)
    assert result.status is SyncStatus.COMPLETED, result.error
    assert len(await contents(index_name)) == 5


async def test_an_index_created_by_the_sync_is_not_preflighted(es, index_name, tmp_path):
    """Sluice's own mappings: a bad value fails that document only, as before."""
    docs = make_docs(20)
    docs["doc-0"]["_timestamp"] = "not a date"
    log_path = tmp_path / "failures.ndjson"
    result, _ = await sync(es, MemorySource(docs), index_name, failure_log=FailureLog(log_path))
    assert result.status is SyncStatus.COMPLETED
    assert result.counters.failed == 1 and result.counters.indexed == 19


def test_ledger_keeps_ids_on_disk(tmp_path: Path) -> None:
    from sluice.core.engine.snapshot import IdLedger

    ledger = IdLedger(tmp_path)
    ledger.add_existing([(f"id{i}", None, None) for i in range(2000)])
    for i in range(0, 2000, 2):
        ledger.mark_seen(f"id{i}")
    unseen = [doc_id for page in ledger.unseen_ids(page=300) for doc_id in page]
    assert len(unseen) == 1000 and all(int(x[2:]) % 2 for x in unseen)
    path = ledger.path
    ledger.close()
    assert not path.exists()


async def test_total_and_eta_when_the_source_counts(es, index_name):
    source = MemorySource(make_docs(400), delay=0.002)
    source.countable = True
    board = ProgressBoard()
    engine = SyncEngine(es, SMALL, listener=board)
    task = asyncio.create_task(engine.run(source, SyncRequest(index_name=index_name)))
    seen_eta = None
    while not task.done():
        await asyncio.sleep(0.05)
        snap = board.snapshot
        if snap is not None and snap.total and snap.eta_seconds is not None:
            seen_eta = snap.eta_seconds
    result = await task
    assert result.status is SyncStatus.COMPLETED
    assert board.snapshot.total == 400
    assert seen_eta is not None and seen_eta >= 0


async def test_attachment_without_a_pipeline_is_dropped_and_logged(es, index_name, tmp_path):
    docs = make_docs(2)
    docs["doc-0"]["_attachment"] = "JVBERi0xLjQK"  # base64 bytes for a pipeline to extract
    log_path = tmp_path / "failures.ndjson"
    result, _ = await sync(es, MemorySource(docs), index_name, failure_log=FailureLog(log_path))
    assert result.status is SyncStatus.COMPLETED
    stored = await index_contents(es, index_name)
    assert "_attachment" not in stored["doc-0"] and stored["doc-0"]["title"] == "Title 0"
    (entry,) = read_failures(log_path)
    assert entry["id"] == "doc-0" and "ingest pipeline does not exist" in entry["reason"]


async def test_failures_name_the_document_not_only_its_id(es, index_name, tmp_path):
    docs = make_docs(3)
    docs["doc-1"]["_timestamp"] = "not a date"  # rejected by the index mapping
    source = MemorySource(docs)
    source.names["doc-2"] = "orders id=2"  # a source's own name wins, and is not indexed
    source.errors["doc-2"] = "a value could not be converted"
    log_path = tmp_path / "failures.ndjson"
    result, _ = await sync(es, source, index_name, failure_log=FailureLog(log_path))
    entries = {e["id"]: e for e in read_failures(log_path)}
    assert entries["doc-1"]["name"] == "Title 1" and entries["doc-1"]["operation"] == "index"
    assert entries["doc-2"]["name"] == "orders id=2"
    stored = await index_contents(es, index_name)
    assert set(stored["doc-2"]) == {"title", "body", "n", "_timestamp", "id"}
    assert result.counters.failed == 2


async def test_a_folder_the_source_could_not_list_is_a_counted_failure(es, index_name, tmp_path):
    """Not a document: nothing indexed, but counted, logged by path, and the job not clean."""
    source = MemorySource(make_docs(4))
    source.records = [
        SourceFailure("/srv/share/closed", "cannot list this folder (Permission denied)", "list")
    ]
    log_path = tmp_path / "failures.ndjson"
    board = ProgressBoard()
    result, _ = await sync(es, source, index_name, failure_log=FailureLog(log_path), listener=board)
    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.counters.failed == 1 and result.counters.extracted == 4
    (entry,) = read_failures(log_path)
    assert entry["id"] == entry["name"] == "/srv/share/closed"
    assert entry["operation"] == "list" and "Permission denied" in entry["reason"]
    assert len(await index_contents(es, index_name)) == 4
    assert [f.name for f in board.failures()] == ["/srv/share/closed"]


async def test_deleting_stale_documents_has_its_own_progress(es, index_name):
    source = MemorySource(make_docs(300))
    await sync(es, source, index_name)
    for i in range(120):
        del source.docs[f"doc-{i}"]
    source.countable = True
    seen: list[Any] = []
    engine = SyncEngine(es, SMALL)

    def listen(event: Any) -> None:
        if isinstance(event, PhaseEvent):
            seen.append((event.phase.value, engine.snapshot()))
        elif isinstance(event, FinishedEvent):
            seen.append(("finished", event.snapshot))

    engine.listener = listen
    result = await engine.run(source, SyncRequest(index_name=index_name))
    assert result.status is SyncStatus.COMPLETED, result.error
    snapshots = dict(seen)
    deleting = snapshots["deleting stale documents"]  # counted before the first delete
    assert deleting.stale_total == 120 and deleting.progress == (0, 120)
    assert deleting.fraction == 0.0
    assert snapshots["finishing"].fraction < 1.0  # the last deletes may still be in flight
    final = snapshots["finished"]
    assert final.progress == (120, 120)
    assert final.fraction == 1.0 and final.eta_seconds is None
    assert result.counters.deleted == 120


def test_progress_is_per_phase_with_its_own_eta():
    from sluice.core.engine.progress import Counters, Phase, ProgressSnapshot

    extracting = ProgressSnapshot(
        Phase.EXTRACTING, Counters(extracted=600), 10.0, 50.0, total=1000, phase_rate=40.0
    )
    assert extracting.progress == (600, 1000) and extracting.eta_seconds == 10.0
    deleting = ProgressSnapshot(
        Phase.DELETING,
        Counters(extracted=1000, deleted=400),
        20.0,
        90.0,
        total=1000,
        stale_total=120_000,
        stale_done=40_000,
        phase_rate=1000.0,
    )
    assert deleting.progress == (40_000, 120_000) and deleting.eta_seconds == 80.0
    assert round(deleting.fraction, 3) == 0.333
    stopped = ProgressSnapshot(
        Phase.DONE,
        Counters(extracted=1000),
        20.0,
        0.0,
        total=1000,
        status=SyncStatus.CANCELED,
    )
    assert stopped.fraction == 0.99 and stopped.eta_seconds is None  # never 100 % unless done


def test_the_rate_is_a_sliding_window_that_falls_to_zero():
    from sluice.core.engine.progress import RateMeter

    meter = RateMeter(window=10.0)
    for second in range(11):
        rate = meter.sample(float(second), second * 100)
    assert rate == 100.0
    for second in range(11, 22):  # nothing moves any more
        rate = meter.sample(float(second), 1000)
    assert rate == 0.0


def _tree_docs(paths: list[str]) -> dict[str, dict[str, Any]]:
    ts = "2026-01-01T00:00:00+00:00"
    return {f"id-{p}": {"relative_path": p, "title": p, "_timestamp": ts} for p in paths}


async def test_an_unread_part_keeps_its_documents_and_the_rest_is_deleted(
    es, index_name, contents, tmp_path
):
    """A folder the source could not list: every stale document under it (by its scope
    field) is kept, stale documents elsewhere are deleted, and the result says so."""
    paths = ["a/1.txt", "a/2.txt", "a/deep/3.txt", "ab/4.txt", "b/5.txt", "b/6.txt", "top.txt"]
    source = MemorySource(_tree_docs(paths))
    source.docs["no-path"] = {"title": "indexed by something else", "_timestamp": "2026"}
    first, _ = await sync(es, source, index_name)
    assert first.status is SyncStatus.COMPLETED and first.notice is None

    for path in ("a/1.txt", "a/2.txt", "a/deep/3.txt"):  # not yielded: `a` is unreadable
        del source.docs[f"id-{path}"]
    del source.docs["id-b/5.txt"]  # really gone
    del source.docs["id-ab/4.txt"]  # gone too: `ab/` is not under `a/`
    del source.docs["no-path"]  # no scope field: nobody can tell, so it is kept
    source.records = [
        SourceFailure(
            "/srv/share/a",
            "cannot list this folder (Permission denied)",
            "list",
            Scope("relative_path", "a/", prefix=True),
        )
    ]
    log_path = tmp_path / "failures.ndjson"
    second, _ = await sync(es, source, index_name, failure_log=FailureLog(log_path))

    assert second.status is SyncStatus.COMPLETED, second.error
    assert second.counters.deleted == 2 and second.counters.failed == 1
    stored = await contents(index_name)
    assert set(stored) == {
        "id-a/1.txt", "id-a/2.txt", "id-a/deep/3.txt", "id-b/6.txt", "id-top.txt", "no-path"
    }  # fmt: skip
    assert second.notice == "stale documents kept: /srv/share/a could not be listed (4 kept)"
    (entry,) = read_failures(log_path)
    assert entry["name"] == "/srv/share/a" and entry["operation"] == "list"


async def test_an_unread_part_without_a_scope_deletes_nothing(es, index_name, contents):
    source = MemorySource(make_docs(10))
    await sync(es, source, index_name)
    for i in range(4):
        del source.docs[f"doc-{i}"]
    source.records = [SourceFailure("page 3", "could not read a page")]
    result, _ = await sync(es, source, index_name)
    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.counters.deleted == 0 and result.counters.failed == 1
    assert len(await contents(index_name)) == 10
    assert result.notice == "stale documents kept: page 3 could not be read (nothing was deleted)"


async def test_a_scope_given_as_a_plain_mapping_works_too(es, index_name, contents):
    """For sources that build plain dicts: {"field", "value", "prefix"}."""
    source = MemorySource(
        {"t1-1": {"table": "t1"}, "t2-1": {"table": "t2"}, "t2-2": {"table": "t2"}}
    )
    await sync(es, source, index_name)
    source.docs = {"t2-1": {"table": "t2"}}
    source.records = [
        SourceFailure(
            "public.t1",
            "permission denied for table t1",
            "read",
            {"field": "table", "value": "t1"},  # as a plain dict
        )
    ]
    result, _ = await sync(es, source, index_name)
    assert result.status is SyncStatus.COMPLETED, result.error
    assert set(await contents(index_name)) == {"t1-1", "t2-1"}
    assert result.notice == "stale documents kept: public.t1 could not be read (1 kept)"


def test_the_ledger_pages_stale_ids_while_some_are_kept(tmp_path: Path) -> None:
    from sluice.core.engine.snapshot import IdLedger

    ledger = IdLedger(tmp_path)
    try:
        ledger.add_existing([(f"id-{n:03}", None, None) for n in range(25)])
        ledger.mark_seen("id-000")
        first = ledger.unseen_after(None, 10)
        assert first == [f"id-{n:03}" for n in range(1, 11)]
        ledger.mark_kept(first[:5])
        assert ledger.unseen_after(first[-1], 10)[0] == "id-011"
        assert ledger.count_unseen() == 25 - 1 - 5
    finally:
        ledger.close()


async def test_lazy_content_is_loaded_only_for_documents_written(es, index_name, contents):
    """A document's content loader runs only once the engine writes it; a loader that fails
    fails that document (indexed with its metadata), not the sync. One engine, two runs:
    each run counts from zero."""
    source = MemorySource(make_docs(6))
    source.lazy = {f"doc-{i}": {"extra": f"content {i}"} for i in range(5)}
    source.lazy["doc-5"] = "doc-5: cannot be opened: Permission denied"
    engine = SyncEngine(es, SMALL)
    first = await engine.run(source, SyncRequest(index_name=index_name))
    assert first.status is SyncStatus.COMPLETED, first.error
    assert first.counters.indexed == 6 and first.counters.failed == 1
    assert first.counters.as_dict() == engine.snapshot().counters.as_dict()
    assert sorted(source.loaded) == [f"doc-{i}" for i in range(6)]
    stored = await contents(index_name)
    assert stored["doc-0"]["extra"] == "content 0" and stored["doc-0"]["title"] == "Title 0"
    assert "extra" not in stored["doc-5"] and stored["doc-5"]["title"] == "Title 5"

    source.loaded.clear()
    source.docs["doc-2"]["_timestamp"] = "2026-02-01T00:00:00+00:00"
    second = await engine.run(source, SyncRequest(index_name=index_name, incremental=True))
    assert second.status is SyncStatus.COMPLETED, second.error
    assert source.loaded == ["doc-2"]  # the unchanged ones were never loaded
    c = second.counters
    assert (c.extracted, c.unchanged, c.updated, c.failed) == (6, 5, 1, 0)


async def test_lazy_content_is_loaded_before_sync_rules_that_may_read_it(es, index_name, contents):
    source = MemorySource(make_docs(4))
    source.lazy = {f"doc-{i}": {"lang": "fr" if i % 2 else "en"} for i in range(4)}
    rules = [{"id": "en", "policy": "exclude", "field": "lang", "rule": "equals", "value": "en"}]
    result, _ = await sync(es, source, index_name, filtering={"rules": rules})
    assert result.status is SyncStatus.COMPLETED, result.error
    assert set(await contents(index_name)) == {"doc-1", "doc-3"}
    assert result.counters.skipped == 2
