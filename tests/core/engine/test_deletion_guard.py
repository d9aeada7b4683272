"""The mass-deletion guard: a full sync about to delete much of its index stops before the
first delete, keeps the index whole, and says how to go on; a confirmation or a raised
per-connector limit lets it through."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from sluice.core.engine.deletion_guard import (
    MINIMUM_KEY,
    PERCENT_KEY,
    DeletionGuard,
    GuardTrip,
    guard_of,
)
from sluice.core.engine.engine import SyncEngine, SyncRequest
from sluice.core.engine.fingerprint import fingerprint_salt
from sluice.core.engine.progress import SyncStatus
from sluice.core.engine.runner import run_job
from sluice.core.engine.settings import EngineSettings
from sluice.core.protocol import JobStatus, JobType
from sluice.core.workflows.explain import explain
from sluice.sources.registry import create_source
from tests.core.engine.memory_source import MemorySource, make_docs

pytestmark = pytest.mark.es

FILES = 2_000
REMOVED = 1_200  # 60 %


def write_folder(root: Path, count: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = root / f"note-{i:05d}-é.txt"
        path.write_text(f"note {i}\n", encoding="utf-8")
        paths.append(path)
    return paths


async def dir_connector(store, es, folder: Path, **limits: int):
    index = f"search-sluice-test-{uuid.uuid4().hex[:10]}"
    connector = await store.create_connector(index_name=index, service_type="dir", name="g")
    values = {"directory": str(folder), **limits}
    await store.update_configuration(
        connector.id, schema=create_source("dir", values).configuration
    )
    return connector, index


async def sync(store, es, connector_id: str, confirm: int | None = None):
    job = await store.get_job(await store.create_job(connector_id, JobType.FULL))
    result = await run_job(
        store, es, job, create_source, worker_hostname="t", confirm_deletions=confirm
    )
    return result, await store.get_job(job.id)


async def count(es, index: str) -> int:
    await es.indices.refresh(index=index)
    return int((await es.count(index=index))["count"])


async def test_a_sync_after_60_percent_of_a_folder_vanished_stops_and_keeps_the_index(
    store, es, tmp_path
):
    files = write_folder(tmp_path / "share", FILES)
    connector, index = await dir_connector(store, es, tmp_path / "share")
    try:
        first, _ = await sync(store, es, connector.id)
        assert first.status is SyncStatus.COMPLETED, first.error
        assert await count(es, index) == FILES
        for path in files[:REMOVED]:
            path.unlink()

        stopped, record = await sync(store, es, connector.id)

        assert stopped.status is SyncStatus.ERROR
        assert stopped.counters.deleted == 0
        assert await count(es, index) == FILES  # the index is whole
        assert stopped.deletion_guard == GuardTrip(REMOVED, FILES, 60.0, 30, 1000)
        error = stopped.error or ""
        assert "would delete 1,200 of the index's 2,000 documents (60 %)" in error
        assert f"sync {connector.id} --confirm-deletions" in error
        assert record.status is JobStatus.ERROR and record.error == error
        guard = record.metadata["sluice"]["deletion_guard"]
        assert (guard["would_delete"], guard["indexed"], guard["percent"]) == (1200, 2000, 60.0)
        assert (await store.get_connector(connector.id)).last_sync_error == error
        why = await explain(store, connector.id)
        assert why.findings[0].cause == "deletion_guard"
        assert "--confirm-deletions" in why.findings[0].fix

        confirmed, record = await sync(store, es, connector.id, confirm=REMOVED)

        assert confirmed.status is SyncStatus.COMPLETED, confirmed.error
        assert confirmed.counters.deleted == REMOVED
        assert await count(es, index) == FILES - REMOVED
        assert record.metadata["sluice"]["deletion_guard"] is None
    finally:
        await es.options(ignore_status=404).indices.delete(index=index)


async def test_a_raised_per_connector_limit_lets_the_same_sync_through(store, es, tmp_path):
    files = write_folder(tmp_path / "share", FILES)
    connector, index = await dir_connector(store, es, tmp_path / "share", **{PERCENT_KEY: 70})
    try:
        assert (await sync(store, es, connector.id))[0].status is SyncStatus.COMPLETED
        for path in files[:REMOVED]:
            path.unlink()
        result, _ = await sync(store, es, connector.id)
        assert result.status is SyncStatus.COMPLETED, result.error
        assert result.counters.deleted == REMOVED
        assert await count(es, index) == FILES - REMOVED
    finally:
        await es.options(ignore_status=404).indices.delete(index=index)


async def test_a_confirmation_written_after_the_job_was_claimed_still_counts(store, es, tmp_path):
    """The dashboard's `d` creates the job, then writes the confirmation into it: a service
    that read the job in between finds it when its guard is about to stop the sync."""
    files = write_folder(tmp_path / "share", FILES)
    connector, index = await dir_connector(store, es, tmp_path / "share", **{MINIMUM_KEY: 100})
    try:
        assert (await sync(store, es, connector.id))[0].status is SyncStatus.COMPLETED
        for path in files[:REMOVED]:
            path.unlink()
        job_id = await store.create_job(connector.id, JobType.FULL)
        claimed = await store.get_job(job_id)  # what the service read: no confirmation yet
        await store.update_job_stats(job_id, metadata={"sluice": {"confirm_deletions": REMOVED}})

        result = await run_job(store, es, claimed, create_source, worker_hostname="t")

        assert result.status is SyncStatus.COMPLETED, result.error
        assert result.counters.deleted == REMOVED
        assert await count(es, index) == FILES - REMOVED

        # a confirmation for fewer than are at stake (400 of 800), written late, does not pass
        for path in files[REMOVED : REMOVED + 400]:
            path.unlink()
        job_id = await store.create_job(connector.id, JobType.FULL)
        claimed = await store.get_job(job_id)
        await store.update_job_stats(job_id, metadata={"sluice": {"confirm_deletions": 10}})
        stopped = await run_job(store, es, claimed, create_source, worker_hostname="t")
        assert stopped.status is SyncStatus.ERROR and stopped.counters.deleted == 0
        assert stopped.deletion_guard is not None and stopped.deletion_guard.stale == 400
    finally:
        await es.options(ignore_status=404).indices.delete(index=index)


async def test_a_confirmation_for_fewer_documents_than_at_stake_does_not_pass(es, index_name):
    source = MemorySource(make_docs(100))
    settings = EngineSettings(chunk_size=50, progress_interval=0.05)
    guard = DeletionGuard(max_percent=30, min_documents=10, confirmed=40)
    first = await SyncEngine(es, settings).run(source, SyncRequest(index_name=index_name))
    assert first.status is SyncStatus.COMPLETED
    for i in range(50):
        source.docs.pop(f"doc-{i}")

    result = await SyncEngine(es, settings).run(
        source, SyncRequest(index_name=index_name, deletion_guard=guard, connector_id="c1")
    )

    assert result.status is SyncStatus.ERROR
    assert result.deletion_guard is not None and result.deletion_guard.stale == 50
    assert await count(es, index_name) == 100
    again = await SyncEngine(es, settings).run(
        source, SyncRequest(index_name=index_name, deletion_guard=guard.__class__(30, 10, 50))
    )
    assert again.status is SyncStatus.COMPLETED and again.counters.deleted == 50


async def test_small_deletions_pass_whatever_their_share(es, index_name):
    """60 % of 100 documents is under the 1,000-document minimum: no guard."""
    source = MemorySource(make_docs(100))
    settings = EngineSettings(chunk_size=50, progress_interval=0.05)
    await SyncEngine(es, settings).run(source, SyncRequest(index_name=index_name))
    for i in range(60):
        source.docs.pop(f"doc-{i}")
    result = await SyncEngine(es, settings).run(source, SyncRequest(index_name=index_name))
    assert result.status is SyncStatus.COMPLETED and result.counters.deleted == 60


def test_the_limits_come_from_the_configuration_with_safe_defaults():
    assert guard_of(None) == DeletionGuard(30, 1000)
    configured = {PERCENT_KEY: {"value": 50}, MINIMUM_KEY: {"value": "200"}}
    assert guard_of(configured, confirmed=7) == DeletionGuard(50, 200, 7)
    assert guard_of({PERCENT_KEY: {"value": "lots"}}) == DeletionGuard(30, 1000)
    assert DeletionGuard(100, 0).check(10_000, 10_000) is None  # 100 % turns it off
    assert DeletionGuard(30, 0).check(31, 100) is not None
    assert DeletionGuard(30, 0).check(30, 100) is None


def test_changing_the_limits_does_not_resend_every_document():
    base = {"directory": {"value": "/srv"}}
    raised = {**base, PERCENT_KEY: {"value": 80}, MINIMUM_KEY: {"value": 5}}
    assert fingerprint_salt(base) == fingerprint_salt(raised)


def test_every_sluice_source_shows_the_limits_under_advanced_settings():
    schema = create_source("dir", {"directory": "/srv"}).configuration
    for key in (PERCENT_KEY, MINIMUM_KEY):
        assert schema[key]["ui_restrictions"] == ["advanced"]
        assert schema[key]["type"] == "int"
    assert schema[PERCENT_KEY]["value"] == 30
