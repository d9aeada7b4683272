"""Reconciliation after every sync: what the source yielded against what the index holds,
recorded on the job — and a document deleted behind the engine's back is found."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from sluice.core.engine.engine import SyncEngine, SyncRequest
from sluice.core.engine.progress import SyncStatus
from sluice.core.engine.reconcile import Reconciliation
from sluice.core.engine.runner import job_reconciliation, run_job
from sluice.core.engine.settings import EngineSettings
from sluice.core.protocol import JobType
from tests.core.engine.memory_source import MemorySource, make_docs

pytestmark = pytest.mark.es

SMALL = EngineSettings(chunk_size=50, max_concurrency=3, progress_interval=0.05)


class DeletingBehindTheBack(MemorySource):
    """Deletes `victims` from the index with its own requests once the sync has listed the
    index (as an operator's `DELETE` or another tool would), then yields as usual."""

    def __init__(self, es: AsyncElasticsearch, index: str, victims: list[str], docs) -> None:
        super().__init__(docs)
        self.es, self.index, self.victims = es, index, victims

    async def get_docs(self, filtering: Mapping[str, Any] | None = None) -> AsyncIterator[dict]:
        for victim in self.victims:
            await self.es.delete(index=self.index, id=victim, refresh=True)
        async for item in super().get_docs(filtering):
            yield item


async def sync(es, source, index: str) -> Any:
    result = await SyncEngine(es, SMALL).run(source, SyncRequest(index_name=index))
    assert result.status is SyncStatus.COMPLETED, result.error
    return result


async def test_a_clean_sync_reconciles(es, index_name):
    source = MemorySource(make_docs(300))
    first = await sync(es, source, index_name)  # a new index: counts
    assert first.reconciliation == Reconciliation(300, 300)
    assert first.reconciliation.line() == "source 300 · index 300 ✔"
    for i in range(40):
        source.docs.pop(f"doc-{i}")
    again = await sync(es, source, index_name)  # deletions included
    assert again.reconciliation.matches and again.reconciliation.indexed == 260


async def test_a_document_deleted_behind_the_engines_back_is_found_missing(es, index_name):
    docs = make_docs(200)
    await sync(es, MemorySource(docs), index_name)

    # The listing saw doc-17 with its fingerprint, so the sync skips it as unchanged: only
    # reconciliation can notice it is gone.
    result = await sync(es, DeletingBehindTheBack(es, index_name, ["doc-17"], docs), index_name)

    found = result.reconciliation
    assert found is not None and found.matches is False
    assert (found.expected, found.indexed, found.missing, found.extra) == (200, 199, 1, 0)
    assert found.missing_sample == ["doc-17"]
    assert found.line() == "source 200 · index 199 ✘ 1 missing (e.g. doc-17)"
    assert found.advice() == "the next full sync writes the missing ones again"
    healed = await sync(es, MemorySource(docs), index_name)  # the next sync writes it again
    assert healed.reconciliation.matches and healed.counters.indexed == 1


async def test_documents_added_behind_the_engines_back_are_found_extra(es, index_name):
    source = MemorySource(make_docs(50))
    await sync(es, source, index_name)

    class Adding(MemorySource):
        async def get_docs(self, filtering=None):
            async for item in super().get_docs(filtering):
                yield item
            await es.index(index=index_name, id="stray", document={"title": "x"}, refresh=True)

    result = await sync(es, Adding(source.docs), index_name)

    found = result.reconciliation
    assert (found.expected, found.indexed, found.extra, found.extra_sample) == (
        50,
        51,
        1,
        ["stray"],
    )
    assert "written by something else" in found.advice()


async def test_the_job_record_and_its_readers_carry_the_result(store, es):
    index = f"search-sluice-test-{uuid.uuid4().hex[:10]}"
    connector = await store.create_connector(index_name=index, service_type="memory", name="r")
    docs = make_docs(120)
    try:
        for source in (MemorySource(docs), DeletingBehindTheBack(es, index, ["doc-3"], docs)):
            job = await store.get_job(await store.create_job(connector.id, JobType.FULL))
            result = await run_job(store, es, job, lambda t, c, s=source: s, worker_hostname="t")
            assert result is not None and result.status is SyncStatus.COMPLETED
        record = await store.get_job(job.id)
        assert job_reconciliation(record.metadata) == result.reconciliation
        assert job_reconciliation(record.metadata).missing_sample == ["doc-3"]
        assert record.total_document_count == 119
    finally:
        await es.options(ignore_status=404).indices.delete(index=index)


async def test_an_index_too_large_to_list_is_compared_by_counts(es, index_name, monkeypatch):
    from sluice.core.engine import reconcile

    monkeypatch.setattr(reconcile, "ID_LIMIT", 10)
    docs = make_docs(30)
    await sync(es, MemorySource(docs), index_name)
    result = await sync(es, DeletingBehindTheBack(es, index_name, ["doc-1"], docs), index_name)
    found = result.reconciliation
    assert (found.expected, found.indexed, found.missing) == (30, 29, None)
    assert (
        found.line()
        == "source 30 · index 29 ✘ 1 missing; ids not compared (more than 10 documents)"
    )


def test_records_round_trip_and_bad_records_read_as_none():
    found = Reconciliation(5, 4, 1, 0, ["a"], [], None)
    assert Reconciliation.from_doc(found.as_doc()) == found
    assert Reconciliation.from_doc("junk") is None
    assert Reconciliation(None, 10).line().startswith("index 10 (an incremental sync")
