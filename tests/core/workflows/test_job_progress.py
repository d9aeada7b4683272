"""A job record read as the engine's snapshot: a job a service runs shows on the dashboard
exactly like a sync run here — done, total, rate, ETA and the bar computed by the snapshot."""

from __future__ import annotations

from datetime import UTC, datetime

from sluice.core.engine.progress import Phase, SyncStatus
from sluice.core.protocol import SyncJob
from sluice.core.workflows.job_progress import snapshot_from_job

STARTED = "2026-03-14T09:00:00+00:00"


def _job(**doc) -> SyncJob:
    return SyncJob("job-1", doc)


def test_a_running_job_reads_as_a_snapshot_with_progress_and_eta():
    job = _job(
        status="in_progress",
        started_at=STARTED,
        indexed_document_count=300,
        deleted_document_count=4,
        total_document_count=1200,
        indexed_document_volume=2,
    )
    now = datetime(2026, 3, 14, 9, 1, 0, tzinfo=UTC)
    snapshot = snapshot_from_job(job, docs_per_second=30.0, now=now)
    assert snapshot.phase is Phase.SYNCING and snapshot.status is None
    assert snapshot.counters.indexed == snapshot.counters.extracted == 300
    assert (snapshot.counters.deleted, snapshot.counters.bytes) == (4, 2 * 1024 * 1024)
    assert snapshot.progress == (300, 1200) and snapshot.fraction == 0.25
    assert snapshot.elapsed == 60.0 and snapshot.eta_seconds == 30.0  # 900 left at 30/s
    assert not snapshot.rate_is_average


def test_a_pending_job_waits_and_knows_no_total():
    snapshot = snapshot_from_job(_job(status="pending"))
    assert snapshot.phase is Phase.WAITING and str(snapshot.phase) == "waiting for the service"
    assert snapshot.progress == (0, None) and snapshot.fraction is None
    assert snapshot.eta_seconds is None and snapshot.elapsed == 0.0


def test_a_finished_job_carries_its_status_error_and_notices():
    job = _job(
        status="error",
        started_at=STARTED,
        completed_at="2026-03-14T09:00:30+00:00",
        indexed_document_count=10,
        total_document_count=40,
        error="connection refused",
        metadata={"sluice": {"notices": ["ingest pipeline 'p' doesn't exist"]}},
    )
    snapshot = snapshot_from_job(job, docs_per_second=5.0)
    assert snapshot.status is SyncStatus.ERROR and snapshot.phase is Phase.DONE
    assert snapshot.elapsed == 30.0 and snapshot.eta_seconds is None
    assert snapshot.fraction == 0.25  # a failed job stays where it stopped
    assert snapshot.last_error == "connection refused"
    assert snapshot.notices == ("ingest pipeline 'p' doesn't exist",)
    done = snapshot_from_job(_job(status="completed", indexed_document_count=10))
    assert done.fraction == 1.0 and done.status is SyncStatus.COMPLETED
