"""One sync job of Elastic's connector protocol, end to end: claim it, run the engine from
the job's snapshot of the connector, keep the job record alive, and finish it.

Shared by `sluice run` (many jobs on the service's loop), `sluice sync` and the TUI (one job
on a loop of its own). Sources are created through an injected `SourceFactory`, because
core/ never imports sources/.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from elasticsearch import AsyncElasticsearch
from elasticsearch.exceptions import ApiError, TransportError

from sluice.core.engine.checkpoint import Checkpoint
from sluice.core.engine.deletion_guard import (
    GuardTrip,
    confirmed_deletions,
    guard_of,
    guard_trip_of,
)
from sluice.core.engine.engine import StopSignal, SyncEngine, SyncRequest, SyncResult
from sluice.core.engine.failures import FailureLog, failure_log_path
from sluice.core.engine.fingerprint import fingerprint_salt
from sluice.core.engine.orphans import remove_orphans
from sluice.core.engine.progress import Counters, Listener, SyncStatus
from sluice.core.engine.reconcile import Reconciliation, count_index
from sluice.core.engine.settings import EngineSettings
from sluice.core.engine.source import DocumentSource
from sluice.core.es import build_client
from sluice.core.invocation import sluice_command
from sluice.core.protocol import (
    ACTIVE_STATUSES,
    KEEP,
    ConnectorStore,
    ConnectorStoreError,
    InvalidTransition,
    JobStatus,
    JobType,
    SyncJob,
    SyncStats,
    TriggerMethod,
    WorkerIdentity,
    cleanup_stale_jobs,
    make_resumable,
    open_store,
)
from sluice.core.protocol.index_store import family

log = logging.getLogger("sluice.runner")

#: Builds a source from `(service_type, configuration)`; `sources.registry.create_source`.
SourceFactory = Callable[[str, Mapping[str, Any]], DocumentSource]

STATS_INTERVAL = 10.0  # the protocol asks for job stats at least every 10 s
CANCEL_POLL_INTERVAL = 2.0  # cancel requests must be noticed within 5 s
#: A stopped job's record must say so within ~2 s: its document count may not wait longer.
STOPPED_COUNT_TIMEOUT = 1.0

MIB = 1024 * 1024


def job_stats(counters: Counters, total: int | None = None) -> SyncStats:
    """Elastic's job counters from the engine's (volume in MiB, as the mapping says)."""
    return SyncStats(
        indexed_document_count=counters.indexed + counters.updated,
        indexed_document_volume=round(counters.bytes / MIB),
        deleted_document_count=counters.deleted,
        total_document_count=total,
    )


def job_ledger_dir(job_id: str) -> Path:
    """Where a job's durable ledger lives (`core.engine.checkpoint`): beside its failures."""
    return failure_log_path(job_id).parent / "ledger"


def job_checkpoint(metadata: Any) -> Checkpoint | None:
    """The checkpoint a job record carries (`metadata.sluice.checkpoint`), if any."""
    section = metadata.get("sluice") if isinstance(metadata, Mapping) else None
    return Checkpoint.from_doc(section.get("checkpoint")) if isinstance(section, Mapping) else None


def job_metadata(
    result: SyncResult | None, job_id: str, checkpoint: Checkpoint | None = None
) -> dict[str, Any]:
    """Sluice's extra counters, kept in the job's free-form `metadata`; a suspended job keeps
    its last `checkpoint` to continue from."""
    if result is None:
        return {}
    c = result.counters
    return {
        "sluice": {
            "checkpoint": checkpoint.as_doc() if checkpoint is not None else None,
            "resumed_after": result.resumed_after,
            "extracted": c.extracted,
            "created": c.indexed,
            "updated": c.updated,
            "skipped": c.skipped,
            "unchanged": c.unchanged,
            "failed": c.failed,
            "duration_seconds": round(result.elapsed, 3),
            "failure_log": str(failure_log_path(job_id)) if result.failures_recorded else None,
            "notice": result.notice,  # stale documents kept: part of the source was unread
            # all a user should know although the sync went on (a missing ingest pipeline,
            # `notice`); read by `sluice job show` and the dashboard
            "notices": list(result.notices),
            # the deletion guard stopped the sync: what it would have deleted (the dashboard
            # offers to confirm it)
            "reconciliation": (
                result.reconciliation.as_doc() if result.reconciliation is not None else None
            ),
            "deletion_guard": (
                result.deletion_guard.as_doc() if result.deletion_guard is not None else None
            ),
        }
    }


def job_notices(metadata: Any) -> list[str]:
    """What `job_metadata` recorded for the user to know (a record written before
    `notices` existed has its `notice` only)."""
    section = metadata.get("sluice") if isinstance(metadata, Mapping) else None
    if not isinstance(section, Mapping):
        return []
    notices = section.get("notices")
    if isinstance(notices, list):
        return [str(notice) for notice in notices if notice]
    notice = section.get("notice")
    return [str(notice)] if notice else []


def _section(metadata: Any) -> Mapping[str, Any]:
    section = metadata.get("sluice") if isinstance(metadata, Mapping) else None
    return section if isinstance(section, Mapping) else {}


def job_reconciliation(metadata: Any) -> Reconciliation | None:
    """The index against the source, as the job's sync recorded it (None before it ended,
    or for a record written before reconciliation existed)."""
    return Reconciliation.from_doc(_section(metadata).get("reconciliation"))


def job_guard_trip(metadata: Any) -> GuardTrip | None:
    """What the deletion guard stopped in the job's sync, if it did."""
    return guard_trip_of(metadata)


def engine_request(
    job: SyncJob,
    sync_cursor: Any = None,
    confirm_deletions: int | None = None,
    store: ConnectorStore | None = None,
) -> SyncRequest:
    """The engine's request for `job`; `confirm_deletions` (else the job's own
    `metadata.sluice.confirm_deletions`) lets the deletion guard pass up to that many. With
    `store`, a guard that stops the sync reads the job record again first: a confirmation
    written after the job was claimed still counts."""
    pipeline = job.pipeline if isinstance(job.pipeline, Mapping) else {}
    if confirm_deletions is None:
        confirm_deletions = confirmed_deletions(job.metadata)
    late_confirmation = None
    if store is not None and confirm_deletions is None:

        async def late_confirmation() -> int | None:
            record = await store.get_job(job.id)
            return confirmed_deletions(record.metadata) if record is not None else None

    return SyncRequest(
        index_name=str(job.index_name),
        incremental=job.job_type is JobType.INCREMENTAL,
        filtering=job.filtering,
        sync_cursor=job.sync_cursor if sync_cursor is None else sync_cursor,
        pipeline=pipeline.get("name") or None,
        language=job.language,
        fingerprint_salt=fingerprint_salt(
            job.configuration, pipeline=dict(pipeline), filtering=job.filtering
        ),
        deletion_guard=guard_of(job.configuration, confirm_deletions),
        late_confirmation=late_confirmation,
        connector_id=job.connector_id,
    )


async def current_sync_cursor(store: ConnectorStore, job: SyncJob) -> Any:
    """The cursor an incremental job continues from: the connector's own, as Elastic's
    service reads it at claim time. A job created through the Connector API carries no
    cursor of its own, and one created before the last sync ended carries a stale one; the
    job's copy is the fallback when the connector cannot be read."""
    if job.job_type is not JobType.INCREMENTAL:
        return job.sync_cursor
    try:
        connector = await store.get_connector(job.connector_id)
    except (ApiError, TransportError, ConnectorStoreError) as exc:
        log.warning("job %s: cannot read the connector's sync cursor (%s)", job.id, exc)
        return job.sync_cursor
    if connector is None or connector.sync_cursor is None:
        return job.sync_cursor
    return connector.sync_cursor


async def run_job(
    store: ConnectorStore,
    client: AsyncElasticsearch,
    job: SyncJob,
    source_factory: SourceFactory,
    *,
    settings: EngineSettings | None = None,
    listener: Listener | None = None,
    stop: StopSignal | None = None,
    worker_hostname: str | None = None,
    worker: WorkerIdentity | None = None,
    claim: bool = True,
    confirm_deletions: int | None = None,
) -> SyncResult | None:
    """Claim `job` and run it to its end; None when another worker has it (or its
    connector is busy). The job record ends `completed`, `error`, `canceled` or
    `suspended`, and the result says which. `worker` is the instance recorded on the job
    (default: this process, on `worker_hostname` or this host). `confirm_deletions`: the
    user accepted deleting up to that many documents (`core.engine.deletion_guard`)."""
    identity = worker or WorkerIdentity.of_this_process(worker_hostname)
    cursor = await current_sync_cursor(store, job)
    if claim:
        hostname = worker_hostname or identity.host
        if not await store.claim_job(job.id, hostname, cursor, worker=identity):
            return None
        log.info(
            "job %s claimed for connector %s by %s", job.id, job.connector_id, identity.describe()
        )
    stop = stop or StopSignal()
    started = time.monotonic()
    if job.job_type is JobType.ACCESS_CONTROL:
        result = _failed_result(
            "access control syncs are not supported by Sluice yet; run this connector's "
            "document-level security under Elastic's service",
            started,
        )
        return await _finish(store, client, job, result)
    try:
        source = source_factory(str(job.service_type), job.configuration)
    except Exception as exc:
        result = _failed_result(f"cannot start the {job.service_type!r} source: {exc}", started)
        return await _finish(store, client, job, result)
    checkpoints = _Checkpoints(job_checkpoint(job.metadata))
    engine = SyncEngine(
        client,
        settings,
        listener=listener,
        failure_log=FailureLog(failure_log_path(job.id)),
        stop=stop,
        ledger_dir=job_ledger_dir(job.id),
        on_checkpoint=checkpoints.confirmed,
    )
    watcher = asyncio.create_task(_watch_job(store, job.id, engine, stop, checkpoints))
    try:
        result = await engine.run(
            source,
            engine_request(job, cursor, confirm_deletions, store),
            resume=checkpoints.latest,
        )
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        with contextlib.suppress(Exception):
            await source.close()
    return await _finish(store, client, job, result, checkpoints.latest)


class _Checkpoints:
    """The job's latest confirmed checkpoint, and whether its record has it yet."""

    def __init__(self, resumed: Checkpoint | None) -> None:
        self.latest = resumed
        self.unsaved = False

    def confirmed(self, checkpoint: Checkpoint) -> None:
        self.latest, self.unsaved = checkpoint, True


def _failed_result(error: str, started: float) -> SyncResult:
    return SyncResult(SyncStatus.ERROR, Counters(), time.monotonic() - started, error=error)


async def _watch_job(
    store: ConnectorStore,
    job_id: str,
    engine: SyncEngine,
    stop: StopSignal,
    checkpoints: _Checkpoints | None = None,
) -> None:
    """Heartbeat with counters every 10 s, and with each new checkpoint within 2 s of its
    confirmation; notice a cancel request (or a job ended by someone else, such as
    stale-job cleanup) within 2 s."""
    last_stats = time.monotonic()
    while True:
        await asyncio.sleep(CANCEL_POLL_INTERVAL)
        try:
            fresh = checkpoints is not None and checkpoints.unsaved
            if fresh or time.monotonic() - last_stats >= STATS_INTERVAL:
                metadata = None
                if checkpoints is not None and checkpoints.unsaved and checkpoints.latest:
                    metadata = {"sluice": {"checkpoint": checkpoints.latest.as_doc()}}
                    checkpoints.unsaved = False
                await store.update_job_stats(
                    job_id, job_stats(engine.snapshot().counters), metadata=metadata
                )
                last_stats = time.monotonic()
            job = await store.get_job(job_id)
        except (ApiError, TransportError, ConnectorStoreError) as exc:
            log.warning("job %s: cannot reach the job record (%s); still syncing", job_id, exc)
            continue
        if job is None or job.status is JobStatus.CANCELING or job.is_terminal:
            log.info("job %s: cancel requested", job_id)
            stop.cancel()
            return


async def _index_count(
    client: AsyncElasticsearch, index: str | None, *, refresh: bool = True
) -> int | None:
    """The index's count for the job record; None without an index or a cluster answer."""
    if not index:
        return None
    try:
        return await count_index(client, index, refresh=refresh)
    except (ApiError, TransportError):
        return None


async def _stopped_index_count(client: AsyncElasticsearch, index: str | None) -> int | None:
    """The count for a job that did not complete: without the refresh (which took seconds on
    a busy cluster, delaying CANCELED on screen), and only if it comes quickly."""
    try:
        return await asyncio.wait_for(
            _index_count(client.options(max_retries=0), index, refresh=False),
            STOPPED_COUNT_TIMEOUT,
        )
    except TimeoutError:
        return None


async def _finish(
    store: ConnectorStore,
    client: AsyncElasticsearch,
    job: SyncJob,
    result: SyncResult,
    checkpoint: Checkpoint | None = None,
) -> SyncResult:
    """Write the outcome to the job (and, through the store, the connector). Returns the
    job's outcome: the engine's result, or a copy saying how the job really ended when
    someone else ended it first (a cancel that raced the completion, stale-job cleanup)."""
    checked = result.reconciliation
    total: int | None
    if checked is not None and checked.indexed is not None:
        total = checked.indexed  # counted after a refresh, once everything was written
    elif result.status is SyncStatus.COMPLETED:
        total = await _index_count(client, job.index_name)
    else:
        total = await _stopped_index_count(client, job.index_name)
    stats = job_stats(result.counters, total)
    suspended = result.status is SyncStatus.SUSPENDED
    metadata = job_metadata(result, job.id, checkpoint if suspended else None)
    if not suspended:  # ended: nothing will continue it (the engine removed it too)
        shutil.rmtree(job_ledger_dir(job.id), ignore_errors=True)
    try:
        if result.status is SyncStatus.COMPLETED:
            cursor = KEEP if result.sync_cursor is None else result.sync_cursor
            ended = await store.complete_job(job.id, stats, metadata=metadata, sync_cursor=cursor)
            if ended.status is JobStatus.CANCELED:
                return replace(result, status=SyncStatus.CANCELED)
        elif result.status is SyncStatus.CANCELED:
            await store.cancel_job(job.id, stats, metadata=metadata)
        elif result.status is SyncStatus.SUSPENDED:
            await store.suspend_job(job.id, stats, metadata=metadata)
        else:
            await store.fail_job(job.id, result.error or "unknown error", stats, metadata=metadata)
    except InvalidTransition as exc:
        # Someone else ended it (cleanup judged it stale, or it was deleted): report that.
        log.warning("job %s ended elsewhere before this worker finished: %s", job.id, exc)
        current = await store.get_job(job.id)
        if current is not None and current.status is JobStatus.CANCELED:
            return replace(result, status=SyncStatus.CANCELED)
        if result.status is SyncStatus.COMPLETED:
            return replace(
                result, status=SyncStatus.ERROR, error=f"the job was ended elsewhere: {exc}"
            )
    return result


async def run_connector_sync(
    es_settings: Mapping[str, Any],
    connector_id: str,
    *,
    source_factory: SourceFactory,
    job_type: str = "full",
    listener: Listener | None = None,
    cancel_event: threading.Event | None = None,
    suspend_event: threading.Event | None = None,
    on_job: Callable[[str], Any] | None = None,
    settings: EngineSettings | None = None,
    worker_hostname: str | None = None,
    resume_job_id: str | None = None,
    confirm_deletions: int | None = None,
) -> SyncResult:
    """Queue an on-demand job for `connector_id` and run it here, on the current loop — or,
    with `resume_job_id`, continue that suspended (or silent `in_progress`) job instead.

    For the TUI's worker thread and `sluice sync`: the job is recorded like any other, so it
    shows in Kibana and in `sluice job list`. When another worker already syncs the
    connector, the new job is canceled and the result says why.
    """
    client = build_client(es_settings)
    started = time.monotonic()
    remove_orphans()  # temporary ledgers of syncs killed before they could clean up
    try:
        store = await open_store(client, es_settings=es_settings)
        if resume_job_id:
            job = await store.get_job(resume_job_id)
            if job is None or job.connector_id != connector_id:
                return _failed_result(
                    f"no sync job with id {resume_job_id!r} for connector {connector_id!r}",
                    started,
                )
            job = await make_resumable(store, job)
            job_id = job.id
            if on_job is not None:
                on_job(job_id)
        else:
            job_id = await store.create_job(
                connector_id, JobType(job_type), TriggerMethod.ON_DEMAND
            )
            if on_job is not None:
                on_job(job_id)
            job = await store.get_job(job_id)
        if job is None:
            return _failed_result(f"job {job_id} vanished right after it was created", started)
        stop = StopSignal(cancel_event, suspend_event)

        async def attempt(claimed: SyncJob) -> SyncResult | None:
            return await run_job(
                store,
                client,
                claimed,
                source_factory,
                settings=settings,
                listener=listener,
                stop=stop,
                worker_hostname=worker_hostname,
                confirm_deletions=confirm_deletions,
            )

        result = await attempt(job)
        if result is None and not resume_job_id and await _unblocked(store, job):
            result = await attempt(job)
        if result is None:
            if resume_job_id:
                return _failed_result(
                    f"job {job_id} could not be taken: another worker runs it or this "
                    "connector's other job",
                    started,
                )
            with contextlib.suppress(ConnectorStoreError, ApiError):
                await store.request_cancel(job_id)
            running = await _running_job(store, job)
            return _failed_result(_busy_reason(running, connector_id), started)
        return result
    finally:
        await client.close()


async def _running_job(store: ConnectorStore, job: SyncJob) -> SyncJob | None:
    """The job of `job`'s family its connector is running now, if any."""
    if not job.connector_id:
        return None
    running = await store.find_jobs(
        statuses=ACTIVE_STATUSES,
        connector_ids=[job.connector_id],
        job_types=family(job.job_type),
        oldest_first=False,
        size=1,
    )
    return running[0] if running else None


async def _unblocked(store: ConnectorStore, job: SyncJob) -> bool:
    """After a refused claim with no job of the family running, the connector's lock is an
    orphan (an instance stopped between locking it and starting its job). Release it as
    `sluice run`'s cleanup does (after the same grace check) rather than fail every sync
    until that runs; True when the connector is free now."""
    if job.job_type is None or not job.connector_id or await _running_job(store, job):
        return False
    await cleanup_stale_jobs(store, connector_ids=[job.connector_id])
    connector = await store.get_connector(job.connector_id)
    return connector is not None and connector.sync_status(job.job_type) not in ACTIVE_STATUSES


def _busy_reason(running: SyncJob | None, connector_id: str) -> str:
    """Why the new job could not run, naming what the user can look at."""
    if running is None:
        return (
            f"connector {connector_id} was locked by another worker that has not started its "
            f"job yet; try again in a few seconds (`{sluice_command()} job list {connector_id}` "
            "shows its jobs)"
        )
    who = running.worker_label or "an unknown worker"
    return (
        f"another worker ({who}) is already syncing this connector in job {running.id}; try "
        f"again when it ends (`{sluice_command()} job show {running.id}` shows it)"
    )
