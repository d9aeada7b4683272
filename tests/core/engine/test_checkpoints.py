"""A stopped job continues from its checkpoint, and ends with the index a clean full sync
makes: stale documents deleted, nothing missing, nothing read twice before the checkpoint."""

from __future__ import annotations

import asyncio
import bisect
import copy
import random
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from sluice.core.engine.checkpoint import Checkpoint
from sluice.core.engine.engine import StopSignal, SyncEngine, SyncRequest
from sluice.core.engine.progress import SyncStatus
from sluice.core.engine.settings import EngineSettings
from tests.core.engine.memory_source import MemorySource, make_docs

FAST = EngineSettings(
    chunk_size=40, max_concurrency=3, progress_interval=0.02, checkpoint_interval=0.05
)


class SortedSource(MemorySource):
    """Yields its documents in id order and can continue after an id (a resumable source)."""

    def __init__(self, docs: Mapping[str, dict[str, Any]], delay: float = 0.0) -> None:
        super().__init__(docs, delay=delay)
        self.position: str | None = None
        self.after: str | None = None
        self.read: list[str] = []

    async def get_docs(self, filtering: Mapping[str, Any] | None = None) -> AsyncIterator[dict]:
        ids = sorted(self.docs)
        start = 0 if self.after is None else bisect.bisect_right(ids, self.after)
        for doc_id in ids[start:]:
            if self.delay:
                await asyncio.sleep(self.delay)
            self.position = doc_id
            self.read.append(doc_id)
            yield {"_id": doc_id, **copy.deepcopy(self.docs[doc_id])}

    def read_position(self) -> Any:
        return self.position

    def resume_after(self, position: Any) -> None:
        self.after = position


async def run_until_checkpoint(
    es: Any, source: SortedSource, index: str, ledger: Path, *, checkpoints: int = 1
) -> tuple[Any, list[Checkpoint]]:
    """Sync until `checkpoints` are confirmed, then stop as a shutdown would."""
    seen: list[Checkpoint] = []
    stop = StopSignal()

    def confirmed(checkpoint: Checkpoint) -> None:
        seen.append(checkpoint)
        if len(seen) >= checkpoints:
            stop.suspend()

    engine = SyncEngine(es, FAST, stop=stop, ledger_dir=ledger, on_checkpoint=confirmed)
    result = await engine.run(source, SyncRequest(index_name=index))
    return result, seen


async def resume(
    es: Any, source: SortedSource, index: str, ledger: Path, checkpoint: Checkpoint | None
) -> Any:
    engine = SyncEngine(es, FAST, ledger_dir=ledger, on_checkpoint=lambda _: None)
    result = await engine.run(source, SyncRequest(index_name=index), resume=checkpoint)
    assert result.status is SyncStatus.COMPLETED, result.error
    return result


async def seed(es: Any, index: str, source: Mapping[str, dict[str, Any]]) -> None:
    """An index synced before, holding documents the source no longer has (stale)."""
    engine = SyncEngine(es, FAST)
    await engine.run(MemorySource(source), SyncRequest(index_name=index))


async def test_a_suspended_job_continues_after_its_checkpoint(es, index_name, contents, tmp_path):
    await seed(es, index_name, {**make_docs(50, "old"), **make_docs(100)})
    docs = make_docs(600)
    for n in range(0, 600, 3):
        docs[f"doc-{n}"]["body"] = f"changed {n}"
    source = SortedSource(docs, delay=0.002)
    ledger = tmp_path / "ledger"

    stopped, seen = await run_until_checkpoint(es, source, index_name, ledger)
    assert stopped.status is SyncStatus.SUSPENDED
    checkpoint = seen[-1]
    assert 0 < checkpoint.items < 600 and checkpoint.position == sorted(docs)[checkpoint.items - 1]
    assert ledger.exists()  # kept for the resumed job

    source.read.clear()
    resumed = await resume(es, source, index_name, ledger, checkpoint)

    assert resumed.resumed_after == checkpoint.items
    assert source.read == sorted(docs)[checkpoint.items :]  # nothing before it read again
    assert resumed.counters.deleted == 50  # the stale ones, although seen before the stop
    assert not ledger.exists()

    clean = f"{index_name}-clean"
    try:
        await seed(es, clean, {**make_docs(50, "old"), **make_docs(100)})
        await SyncEngine(es, FAST).run(SortedSource(docs), SyncRequest(index_name=clean))
        assert await contents(index_name) == await contents(clean)
    finally:
        await es.options(ignore_status=404).indices.delete(index=clean)


@pytest.mark.parametrize("seed_value", [1, 2, 3])
async def test_stopped_at_random_moments_the_index_ends_as_a_clean_sync(
    es, index_name, contents, tmp_path, seed_value
):
    rng = random.Random(seed_value)
    docs = make_docs(400)
    await seed(es, index_name, {**make_docs(30, "gone"), **make_docs(200)})
    source = SortedSource(docs, delay=0.001)
    ledger = tmp_path / "ledger"
    checkpoint = None
    rounds = 0
    while True:  # stop after 1-3 checkpoints each time, until a run completes
        rounds += 1
        seen: list[Checkpoint] = []
        stop = StopSignal()
        wanted = rng.randint(1, 3)

        def confirmed(c: Checkpoint, seen=seen, stop=stop, wanted=wanted) -> None:
            seen.append(c)
            if len(seen) >= wanted:
                stop.suspend()

        engine = SyncEngine(es, FAST, stop=stop, ledger_dir=ledger, on_checkpoint=confirmed)
        result = await engine.run(source, SyncRequest(index_name=index_name), resume=checkpoint)
        if result.status is SyncStatus.COMPLETED:
            break
        assert result.status is SyncStatus.SUSPENDED
        checkpoint = seen[-1] if seen else checkpoint
        assert rounds < 50
    assert rounds > 1
    stored = await contents(index_name)
    assert set(stored) == set(docs)
    for doc_id, doc in docs.items():
        assert stored[doc_id]["body"] == doc["body"]


async def test_without_its_ledger_a_job_reads_from_the_start_and_still_ends_right(
    es, index_name, contents, tmp_path
):
    """Resumed on another host (the ledger stayed where the job ran): read again from the
    start; what was written before the stop is not sent again."""
    await seed(es, index_name, {**make_docs(20, "old"), **make_docs(50)})
    docs = make_docs(300)
    source = SortedSource(docs, delay=0.002)
    stopped, seen = await run_until_checkpoint(es, source, index_name, tmp_path / "here")
    assert stopped.status is SyncStatus.SUSPENDED

    source.read.clear()
    elsewhere = await resume(es, source, index_name, tmp_path / "elsewhere", seen[-1])

    assert elsewhere.resumed_after is None
    assert len(source.read) == 300
    assert elsewhere.counters.unchanged >= seen[-1].items  # written before: not sent again
    assert elsewhere.counters.deleted == 20
    assert set(await contents(index_name)) == set(docs)
