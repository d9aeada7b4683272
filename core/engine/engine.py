"""The sync engine: source → bounded queue → concurrent bulk sink → Elasticsearch.

One `SyncEngine.run(source, request)` is one sync. It runs on whatever event loop calls it
(the service's main loop, or a fresh loop in the TUI's worker thread) and reports progress as
typed events to a listener. Safety rules:

* stale documents are deleted only when the whole extraction succeeded, so a source that fails
  half-way never wipes the index;
* a source that could not read part of its data (a folder it could not list, a table it may
  not read) says which documents that part holds (a `Scope` on its failure record): the
  deletion skips every stale document under it, and the whole deletion when the source could
  not say; the result's `notice` tells what was kept and why (`core.engine.unread`);
* the ids the index held and the ids seen live in an on-disk ledger, so memory stays flat
  however large the index is;
* a cancel or suspend request stops the sync within ~0.1 s and deletes nothing;
* a full sync about to delete much of its index stops before the first delete until the
  user confirms (`core.engine.deletion_guard`);
* a completed sync compares what the index should hold with what it holds, and records the
  result (`core.engine.reconcile`);
* in preview mode (`core.engine.preview`, a dry run) the index is only read: a collector
  takes the bulk sink's place;
* an index that existed before the sync is read once for its mappings, and each document
  whose fields it has not judged yet is checked against them before it is queued
  (`core.engine.mapping_fit`): a field the index would reject fails the sync before that
  document is written, naming the fields, instead of failing documents one by one;
* what the user should know although the sync went on (a missing ingest pipeline, stale
  documents kept) is in the result's `notices` and in every progress snapshot;
* a document's lazy content (`SourceDocument.content`) is loaded only once the engine has
  decided to write it, a bounded number at a time (`core.engine.content`); a loader that
  fails fails that document, which is indexed with its metadata.

Everything one sync learns and counts lives in its `SyncRun` (`core.engine.run`), created by
`run()`; the engine holds only its client, settings and collaborators.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson
from elasticsearch import AsyncElasticsearch, AuthorizationException, NotFoundError
from elasticsearch.exceptions import ApiError, TransportError

from sluice.core.content_index import create_content_index
from sluice.core.engine.budget import ErrorBudget, ErrorBudgetExceeded
from sluice.core.engine.checkpoint import (
    Checkpoint,
    CheckpointTracker,
    ResumableSource,
    resumable,
    unread_docs,
)
from sluice.core.engine.content import ContentLoads
from sluice.core.engine.deletion_guard import DeletionGuard, GuardTrip
from sluice.core.engine.failures import FailureLog
from sluice.core.engine.fingerprint import FINGERPRINT_FIELD, FINGERPRINT_MAPPING, Fingerprints
from sluice.core.engine.ids import normalize_id
from sluice.core.engine.mapping_fit import MappingFit, mismatch_message
from sluice.core.engine.preview import PreviewCollector
from sluice.core.engine.progress import (
    Counters,
    Failure,
    FailureEvent,
    FinishedEvent,
    Listener,
    Phase,
    PhaseEvent,
    ProgressEvent,
    ProgressSnapshot,
    RateMeter,
    SyncStatus,
)
from sluice.core.engine.queue import ByteBoundedQueue
from sluice.core.engine.reconcile import Reconciliation, reconcile
from sluice.core.engine.rules import SyncRules
from sluice.core.engine.run import SyncMode, SyncRun
from sluice.core.engine.settings import EngineSettings
from sluice.core.engine.sink import BulkOp, StallWatch, delete_op, index_op, run_sink_worker
from sluice.core.engine.snapshot import IdLedger, scan_index_ids
from sluice.core.engine.source import (
    ContentError,
    ContentLoader,
    Document,
    DocumentSource,
    Operation,
    SourceDocument,
    SourceEvent,
    SourceFailure,
    SourceNotice,
    content_concurrency,
    counting,
    incremental,
    reporting,
    volatile_fields,
)
from sluice.core.engine.unread import UnreadPart, keep_unread
from sluice.core.log_marks import REPORTED

__all__ = ["IndexMismatch", "StopSignal", "SyncEngine", "SyncMode", "SyncRequest", "SyncResult"]

log = logging.getLogger("sluice.engine")

#: Elastic's field for file bytes (base64) that the ingest pipeline's attachment processor reads.
ATTACHMENT_FIELD = "_attachment"
NO_PIPELINE_FOR_ATTACHMENT = (
    "the source sent the file for the cluster to extract (_attachment), but the connector's "
    "ingest pipeline does not exist here: indexed without its text (create the pipeline, or "
    "let Sluice extract the text)"
)
_STOP_POLL_SECONDS = 0.1
_T = TypeVar("_T")


def pipeline_missing_notice(pipeline: str) -> str:
    """What happens when the connector's pipeline is not on the cluster (Sluice goes on;
    Elastic's connector service would fail the sync)."""
    return (
        f"ingest pipeline {pipeline!r} doesn't exist on this cluster: indexed without it (no "
        "pipeline processing; Elastic's connector service would fail this sync) — create it, "
        "or set the connector's pipeline to one that exists"
    )


class IndexMismatch(Exception):
    """The existing index's mapping rejects fields of the documents (the message says which)."""


@dataclass(frozen=True, slots=True)
class SyncRequest:
    """What to sync: the job's snapshot of the connector, in engine terms."""

    index_name: str
    incremental: bool = False
    filtering: Mapping[str, Any] | None = None  # the active filter {rules, advanced_snippet}
    sync_cursor: Any = None
    pipeline: str | None = None  # ingest pipeline name; used only where it exists
    language: str | None = None  # analyzer language when the index must be created
    # What else shapes the indexed documents (`core.engine.fingerprint.fingerprint_salt`);
    # `skip_unchanged=False` re-sends every document (fingerprints are still written).
    fingerprint_salt: str = ""
    skip_unchanged: bool = True
    # A full sync about to delete much of the index stops first (`core.engine.deletion_guard`);
    # None: no guard.
    deletion_guard: DeletionGuard | None = field(default_factory=DeletionGuard)
    # Asked only when the guard stops the sync: a confirmation written after the job began
    # (the dashboard's `d` writes it just after creating the job, which a service may claim
    # first). None, or an exception: no confirmation.
    late_confirmation: Callable[[], Awaitable[int | None]] | None = None
    connector_id: str | None = None  # named in the messages that say what to run next


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one sync did. Frozen: whoever reports a different outcome (the runner, when the
    job was ended elsewhere) says so in its own result, built with `dataclasses.replace`."""

    status: SyncStatus
    counters: Counters
    elapsed: float
    error: str | None = None
    sync_cursor: Any = None
    failures_recorded: int = 0
    pipeline: str | None = None
    # Why stale documents were kept although the sync completed (part of the source could
    # not be read): "stale documents kept: /srv/share/closed could not be listed (500 kept)".
    notice: str | None = None
    # Everything the user should know although the sync went on: a missing ingest
    # pipeline, and `notice` too.
    notices: list[str] = field(default_factory=list)
    resumed_after: int | None = None  # continued after this many source items (a checkpoint)
    # The deletion guard stopped this sync before it deleted anything (`error` says so).
    deletion_guard: GuardTrip | None = None
    # A completed sync: what the index should hold against what it holds.
    reconciliation: Reconciliation | None = None

    @property
    def docs_per_second(self) -> float:
        done = self.counters.indexed + self.counters.updated
        return done / self.elapsed if self.elapsed > 0 else 0.0


class StopSignal:
    """A thread-safe request to end a sync early: cancel (the user) or suspend (a shutdown).

    Built on `threading.Event`s so a UI thread or a signal handler can set it while the
    engine runs on another loop.
    """

    def __init__(
        self, cancel: threading.Event | None = None, suspend: threading.Event | None = None
    ) -> None:
        self._cancel = cancel or threading.Event()
        self._suspend = suspend or threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def suspend(self) -> None:
        self._suspend.set()

    @property
    def requested(self) -> SyncStatus | None:
        if self._suspend.is_set():
            return SyncStatus.SUSPENDED
        if self._cancel.is_set():
            return SyncStatus.CANCELED
        return None


class _Stopped(Exception):
    def __init__(self, status: SyncStatus) -> None:
        super().__init__(status.value)
        self.status = status


@dataclass(slots=True)
class _Pending:
    """A document to write once its lazy content is loaded."""

    doc: Document
    doc_id: str
    raw_id: Any
    name: str | None
    content: ContentLoader
    judged: bool  # False: sync rules need the content, so they are applied after loading
    number: int  # the item's place in the source's order (`Counters.extracted`)


class SyncEngine:
    """Runs syncs into Elasticsearch with one client; see the module docstring."""

    def __init__(
        self,
        client: AsyncElasticsearch,
        settings: EngineSettings | None = None,
        *,
        listener: Listener | None = None,
        failure_log: FailureLog | None = None,
        stop: StopSignal | None = None,
        work_dir: Path | None = None,
        ledger_dir: Path | None = None,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
        preview: PreviewCollector | None = None,
    ) -> None:
        self.client = client
        self.settings = settings or EngineSettings()
        self.listener = listener
        self.failure_log = failure_log or FailureLog(None)
        self.stop = stop or StopSignal()
        self.work_dir = work_dir
        # Checkpoints (`core.engine.checkpoint`): a resumable source's confirmed positions go
        # to `on_checkpoint`, and the ledger lives in `ledger_dir` to survive the process.
        self.ledger_dir = ledger_dir
        self.on_checkpoint = on_checkpoint
        # A dry run (`core.engine.preview`): the collector takes the sink's place and the
        # index is only read, never created or mapped.
        self.preview = preview
        self._run: SyncRun | None = None  # the run in progress (or the last), for `snapshot`

    # ------------------------------------------------------------------ public

    def snapshot(self) -> ProgressSnapshot:
        """The progress of the run in progress (or of the last one; empty before any)."""
        if self._run is None:
            return ProgressSnapshot(
                phase=Phase.STARTING, counters=Counters(), elapsed=0.0, docs_per_second=0.0
            )
        return self._run.snapshot()

    async def run(
        self, source: DocumentSource, request: SyncRequest, resume: Checkpoint | None = None
    ) -> SyncResult:
        """Sync `source` into `request.index_name`; never raises for sync failures (they are
        in the result), only for programming errors. `resume`: continue a stopped job from
        its checkpoint (when this host still has its ledger; else read from the start)."""
        mode = self._mode(source, request)
        run = self._run = SyncRun(
            index_name=request.index_name,
            mode=mode,
            rules=SyncRules((request.filtering or {}).get("rules") or []),
            queue=ByteBoundedQueue(self.settings.queue_max_size, self.settings.queue_max_mem_size),
            budget=ErrorBudget(self.settings),
            stalls=StallWatch(self._emit),
            fingerprints=Fingerprints(request.fingerprint_salt, volatile_fields(source)),
            preview=self.preview,
        )
        if (talker := reporting(source)) is not None:
            talker.watch(partial(self._heard, run))
        reporter = asyncio.create_task(self._report_progress(run))
        status, error, cursor = SyncStatus.COMPLETED, None, None
        try:
            await self._prepare_index(run, request)
            resumer = resumable(source) if mode is not SyncMode.CURSOR else None
            checkpointing = self.on_checkpoint is not None and resumer is not None
            # A cursor sync deletes only what the source says; an index created just now
            # holds nothing to list or delete (unless a checkpoint may resume into it).
            if mode is not SyncMode.CURSOR and (checkpointing or not run.index_created):
                durable = self.ledger_dir if checkpointing else None
                run.ledger = IdLedger(self.work_dir, durable=durable)
                run.skip_unchanged = request.skip_unchanged and run.fingerprints is not None
            if checkpointing and resumer is not None and self.on_checkpoint is not None:
                run.tracker = CheckpointTracker(
                    self.on_checkpoint, self.settings.checkpoint_interval
                )
                self._resume(run, resumer, resume)
            run.fit = self._fit(run)
            counting_task = self._start_counting(source, run, request)
            try:
                await self._run_until_stopped(source, run, request)
            finally:
                if counting_task is not None:
                    counting_task.cancel()
            error = run.source_error or run.listing_error
            if not error and run.guard_trip is not None and run.preview is None:
                error = run.guard_trip.message(request.connector_id)
            if error:
                status = SyncStatus.ERROR
            else:
                if run.preview is None:
                    run.reconciliation = await self._reconcile(run)
                if (changes := incremental(source)) is not None:
                    cursor = changes.sync_cursor
        except _Stopped as stopped:
            status = stopped.status
        except ErrorBudgetExceeded as exc:
            status = SyncStatus.ERROR
            if run.stalls.outage:  # no request got through: not the documents' fault
                error = f"Elasticsearch unreachable: {run.stalls.outage}"
            else:
                error = f"too many document errors: {exc}"
        except ApiError as exc:
            status, error = SyncStatus.ERROR, f"Elasticsearch refused a request: {exc}"
        except TransportError as exc:  # after the client's own retries
            status, error = SyncStatus.ERROR, f"cannot reach Elasticsearch: {exc}"
        except Exception as exc:  # a sync failure must reach the job record, not a traceback
            log.exception("sync of %s failed", request.index_name)
            status, error = SyncStatus.ERROR, f"{type(exc).__name__}: {exc}"
        finally:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
            self.failure_log.close()
            if run.ledger is not None:  # a suspended job resumes with its ledger
                run.ledger.close(keep=status is SyncStatus.SUSPENDED)
        if error:
            run.last_error = error
        self._set_phase(run, Phase.DONE)
        elapsed = time.monotonic() - run.started
        run.rate_value = run.done() / elapsed if elapsed > 0 else 0.0  # the average
        run.phase_rate_value = 0.0
        snapshot = replace(run.snapshot(), status=status, stalled=None, waiting=None)
        self._emit(FinishedEvent(status, snapshot, error))
        return SyncResult(
            status=status,
            counters=snapshot.counters,
            elapsed=snapshot.elapsed,
            error=error,
            sync_cursor=cursor,
            failures_recorded=self.failure_log.recorded,
            pipeline=run.pipeline,
            notice=run.notice,
            notices=list(run.notices),
            resumed_after=run.resumed_from,
            deletion_guard=run.guard_trip,
            reconciliation=run.reconciliation,
        )

    # ------------------------------------------------------------------ set-up

    @staticmethod
    def _resume(run: SyncRun, source: ResumableSource, resume: Checkpoint | None) -> None:
        """Continue from `resume` when this ledger holds the ids seen before it; otherwise
        start the ledger afresh (the read starts from the beginning, and fingerprints keep
        what was already written from being sent again)."""
        ledger = run.ledger
        assert ledger is not None
        ledger.clear_existing()  # listed again: the index changed since
        if resume is None or not ledger.resumed or run.index_created:
            if resume is not None:
                log.info("cannot continue from the checkpoint here: reading from the start")
            ledger.forget_seen_after(-1)
            return
        ledger.forget_seen_after(resume.items)
        run.counters = resume.restored_counters()
        run.counters.extracted = resume.items
        run.unread = resume.restored_unread()
        run.notices.extend(n for n in resume.notices if n not in run.notices)
        run.resumed_from = resume.items
        source.resume_after(resume.position)
        log.info("continuing after source item %d (the checkpoint)", resume.items)

    def _start_counting(
        self, source: DocumentSource, run: SyncRun, request: SyncRequest
    ) -> asyncio.Task[None] | None:
        """Ask the source how many documents are coming (optional), alongside the sync."""
        counter = counting(source)
        if run.mode is SyncMode.CURSOR or counter is None:
            return None

        async def count() -> None:
            try:
                total = await counter.count_documents(request.filtering)
            except Exception as exc:  # progress only: never fails the sync
                log.debug("the source could not count its documents: %s", exc)
                return
            run.total = int(total) if total is not None else None

        return asyncio.create_task(count())

    def _heard(self, run: SyncRun, event: SourceEvent) -> None:
        """What the source tells while it reads: a notice joins the run's; a wait (or its
        end) is published at once, not at the next periodic snapshot."""
        if isinstance(event, SourceNotice):
            if event.text not in run.notices:
                run.notices.append(event.text)
            return
        run.waiting = event
        self._emit(ProgressEvent(run.snapshot()))

    @staticmethod
    def _mode(source: DocumentSource, request: SyncRequest) -> SyncMode:
        if not request.incremental:
            return SyncMode.FULL
        if incremental(source) is not None and request.sync_cursor is not None:
            return SyncMode.CURSOR
        return SyncMode.TIMESTAMPS

    async def _prepare_index(self, run: SyncRun, request: SyncRequest) -> None:
        """Create the content index when missing; find the pipeline to use, if any."""
        if run.preview is not None:  # a dry run reads: a missing index is one to create
            run.index_created = not await self.client.indices.exists(index=request.index_name)
            if not run.index_created:
                await self._read_existing_mappings(run)
            run.preview.index_exists = not run.index_created
            run.preview.mappings = run.mappings
            run.pipeline = await self._usable_pipeline(run, request.pipeline)
            return
        run.index_created = await create_content_index(
            self.client, request.index_name, language=request.language
        )
        if not run.index_created:  # one made now has only Sluice's mappings: nothing to judge
            await self._read_existing_mappings(run)
            await self._map_fingerprints(run)
        run.pipeline = await self._usable_pipeline(run, request.pipeline)

    async def _map_fingerprints(self, run: SyncRun) -> None:
        """Give an existing index the fingerprint field's mapping (stored, not indexed) when
        it lacks it. Where that is refused, a dynamic index maps the field itself; a strict
        one could not take it, so this sync writes no fingerprints (and skips nothing)."""
        mappings = run.mappings
        if mappings is None or FINGERPRINT_FIELD in (mappings.get("properties") or {}):
            return
        try:
            await self.client.indices.put_mapping(
                index=run.index_name, properties={FINGERPRINT_FIELD: FINGERPRINT_MAPPING}
            )
        except ApiError as exc:
            if str(mappings.get("dynamic", "true")).lower() == "strict":
                run.fingerprints = None
                run.notices.append(
                    f"index {run.index_name!r} is strictly mapped and Sluice may not add its "
                    f"{FINGERPRINT_FIELD} field ({exc.message}): every document is sent on "
                    "each sync — add the field as keyword, or allow Sluice to manage the mapping"
                )
            else:
                log.info("cannot map %s on %s (%s)", FINGERPRINT_FIELD, run.index_name, exc)

    async def _usable_pipeline(self, run: SyncRun, pipeline: str | None) -> str | None:
        if not pipeline:
            return None
        try:
            await self.client.ingest.get_pipeline(id=pipeline)
        except NotFoundError:
            # Kept on purpose (`search-default-ingestion` is missing on many clusters), but
            # shown: in the job's metadata, `sluice job show` and the dashboard.
            run.notices.append(pipeline_missing_notice(pipeline))
            log.warning("%s", run.notices[-1], extra=REPORTED)
            return None
        except AuthorizationException:
            # Elastic's least-privilege connector key (monitor + manage_connector) may not
            # read pipelines; Elastic's service uses the pipeline unchecked, and so do we.
            log.info("cannot check ingest pipeline %r (no privilege); using it", pipeline)
            return pipeline
        except ApiError as exc:
            run.notices.append(
                f"cannot read ingest pipeline {pipeline!r} ({exc}): indexed without it"
            )
            log.warning("%s", run.notices[-1], extra=REPORTED)
            return None
        return pipeline

    async def _read_existing_mappings(self, run: SyncRun) -> None:
        """The mappings of the index (`GET <index>/_mapping`) and its index.mapping.*
        settings into `run`; mappings stay None to skip the preflight."""
        index = run.index_name
        try:
            body = (await self.client.indices.get_mapping(index=index)).body
        except AuthorizationException:
            log.debug("cannot read the mapping of %s (no privilege): no mapping preflight", index)
            return
        except ApiError as exc:
            log.info("cannot read the mapping of %s (%s): no mapping preflight", index, exc)
            return
        entries = list(body.values()) if isinstance(body, Mapping) else []
        if len(entries) != 1 or not isinstance(entries[0], Mapping):
            return  # an alias of several indices (the bulk requests fail anyway)
        mappings = entries[0].get("mappings")
        if not isinstance(mappings, Mapping):
            return
        try:  # index-wide defaults of the fields' ignore_malformed and coerce
            found = await self.client.indices.get_settings(
                index=index, name="index.mapping.*", flat_settings=True
            )
            # an index none of whose settings match is left out of the answer (`{}`)
            entries = list(found.body.values())
            run.index_settings = dict(entries[0].get("settings") or {}) if entries else {}
        except (ApiError, ValueError, AttributeError) as exc:
            log.info("cannot read the settings of %s (%s): their defaults assumed", index, exc)
        run.mappings = mappings

    @staticmethod
    def _fit(run: SyncRun) -> MappingFit | None:
        """The judge of documents against the existing index, if there is one to judge by;
        a pipeline consumes `_attachment` before the mapping sees the document."""
        if run.mappings is None:
            return None
        ignore = (FINGERPRINT_FIELD, ATTACHMENT_FIELD) if run.pipeline else (FINGERPRINT_FIELD,)
        return MappingFit(
            run.mappings,
            ignore=ignore,
            settings=run.index_settings,
        )

    # ------------------------------------------------------------------ pipeline

    async def _run_until_stopped(
        self, source: DocumentSource, run: SyncRun, request: SyncRequest
    ) -> None:
        work = asyncio.create_task(self._pipeline(source, run, request))
        while not work.done():
            await asyncio.wait({work}, timeout=_STOP_POLL_SECONDS)
            requested = self.stop.requested
            if requested is not None and not work.done():
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await work
                raise _Stopped(requested)
        try:
            work.result()
        except BaseExceptionGroup as group:
            budget = group.subgroup(ErrorBudgetExceeded)
            if budget is not None:
                raise budget.exceptions[0] from None
            raise group.exceptions[0] from None

    async def _pipeline(self, source: DocumentSource, run: SyncRun, request: SyncRequest) -> None:
        turn = asyncio.Lock()
        on_result = partial(self._on_result, run)
        async with asyncio.TaskGroup() as group:
            if run.preview is not None:
                ledger = run.ledger
                group.create_task(
                    run.preview.consume(
                        run.queue,
                        self.settings,
                        on_result,
                        lambda doc_id: ledger is not None and ledger.existing(doc_id) is not None,
                    )
                )
            for _ in range(0 if run.preview else max(1, self.settings.max_concurrency)):
                group.create_task(
                    run_sink_worker(
                        self.client,
                        run.queue,
                        self.settings,
                        on_result,
                        run.pipeline,
                        turn,
                        run.stalls,
                        run.inflight,
                    )
                )
            group.create_task(self._feed(source, run, request))

    async def _feed(self, source: DocumentSource, run: SyncRun, request: SyncRequest) -> None:
        """Produce every operation, then close the queue so the sink workers finish."""
        listing: asyncio.Task[None] | None = None
        try:
            if run.ledger is not None and (run.skip_unchanged or run.mode is SyncMode.TIMESTAMPS):
                # fingerprints (and timestamps) are needed before extracting
                self._set_phase(run, Phase.LISTING)
                await self._list_existing(run, run.ledger, with_state=True)
            elif run.ledger is not None:  # listed while the source is read
                listing = asyncio.create_task(
                    self._list_existing(run, run.ledger, with_state=False)
                )
            self._set_phase(run, Phase.EXTRACTING)
            try:
                await self._extract(source, run, request)
            except asyncio.CancelledError:
                raise
            except IndexMismatch as exc:
                run.source_error = str(exc)  # the extraction stopped: nothing is deleted
                log.warning("%s", exc, extra=REPORTED)
                if listing is not None:  # so no need to list the index to its end: fail fast
                    listing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await listing
                    listing = None
            except Exception as exc:
                run.source_error = f"the source failed: {_describe(exc)}"
                log.warning("%s; stale documents are kept", run.source_error, extra=REPORTED)
            if listing is not None:
                await listing
            if (
                run.ledger is not None
                and run.source_error is None
                and run.listing_error is None
                and (run.preview is None or run.preview.complete)
                and await self._keep_unread(run, run.ledger)
            ):
                await self._delete_stale(run, run.ledger, request)
            self._set_phase(run, Phase.FINISHING)
        finally:
            if listing is not None and not listing.done():
                listing.cancel()
            run.queue.close()

    async def _list_existing(self, run: SyncRun, ledger: IdLedger, *, with_state: bool) -> None:
        index = run.index_name
        try:
            # Searches only see refreshed documents: without this, what the previous sync
            # wrote in its last second would never be listed, so never deleted.
            await self.client.indices.refresh(index=index)
        except ApiError as exc:
            log.info("could not refresh %s before listing it (%s)", index, exc)
        try:
            async for page in scan_index_ids(
                self.client,
                index,
                page_size=self.settings.scan_page_size,
                with_state=with_state,
            ):
                ledger.add_existing(page)
        except ApiError as exc:
            run.listing_error = f"could not list the index's documents: {exc}"

    async def _extract(self, source: DocumentSource, run: SyncRun, request: SyncRequest) -> None:
        """Read the source to its end, queueing what to write; documents with lazy content
        are loaded alongside, and all of them are queued before this returns."""
        filtering = request.filtering
        queue = run.queue
        prepare = self._operation
        loads = run.loads = ContentLoads(content_concurrency(source))
        tracker = run.tracker
        resumer = resumable(source)
        limit = run.preview.limit if run.preview is not None else None
        try:
            changes = incremental(source) if run.mode is SyncMode.CURSOR else None
            if changes is not None:
                pairs = changes.get_docs_incrementally(request.sync_cursor, filtering)
                async with _closing(pairs):
                    async for item, operation in pairs:
                        queued = prepare(run, item, Operation(operation))
                        if queued is None:
                            continue
                        if isinstance(queued, _Pending):
                            await loads.submit(
                                queued.content, partial(self._loaded, run, queued), queued.number
                            )
                        elif not queue.try_put(*queued):
                            await queue.put(*queued)
            else:
                docs = source.get_docs(filtering)
                index = Operation.INDEX
                async with _closing(docs):
                    async for yielded in docs:
                        if limit is not None and run.counters.extracted >= limit:
                            run.preview.complete = False  # type: ignore[union-attr]
                            break
                        queued = prepare(run, yielded, index)
                        if tracker is not None and tracker.due and resumer is not None:
                            self._candidate(run, tracker, resumer)
                        # The hot path: no coroutine per document unless the queue is full.
                        if queued is None:
                            continue
                        if isinstance(queued, _Pending):
                            await loads.submit(
                                queued.content, partial(self._loaded, run, queued), queued.number
                            )
                        elif not queue.try_put(*queued):
                            await queue.put(*queued)
            await loads.drain()
        finally:
            loads.cancel()

    def _operation(
        self, run: SyncRun, item: Any, operation: Operation
    ) -> tuple[BulkOp, int] | _Pending | None:
        """The bulk operation (and its size) for one item of the source, a `_Pending` when
        its content is still to load, None to skip it."""
        counters = run.counters
        error = name = content = None
        if type(item) is dict:
            doc: Document = item
        elif isinstance(item, SourceDocument):
            doc, error, name, content = item.document, item.error, item.name, item.content
        elif isinstance(item, SourceFailure):  # not a document: a part it could not read
            self._source_failure(run, item)
            return None
        elif isinstance(item, Mapping):
            doc = dict(item)
        else:
            counters.extracted += 1
            self._failed(run, "?", "index", f"the source yielded a {type(item).__name__}")
            return None
        raw_id = doc.pop("_id", None)
        counters.extracted += 1
        if raw_id is None or raw_id == "":
            self._failed(run, "?", "index", "the source yielded a document without an _id")
            return None
        doc_id = normalize_id(raw_id)
        if name is None:
            found = doc.get("path") or doc.get("title")
            name = found if found is None or isinstance(found, str) else str(found)
        if operation is Operation.DELETE:
            return delete_op(run.index_json, doc_id, name), 64
        if error is not None:
            self._failed(run, doc_id, "extract", error, name)
        # Sync rules may read the lazy content: then they are applied once it is loaded (an
        # unchanged document is still skipped first: it passed the same rules, which are
        # part of the fingerprint's salt, last time).
        rules_later = content is not None and bool(run.rules.rules)
        verdict = self._judge(run, doc, doc_id, name, whole=error is None, rules=not rules_later)
        if verdict is not True:
            return verdict  # None or a delete operation
        if content is not None:
            return _Pending(doc, doc_id, raw_id, name, content, not rules_later, counters.extracted)
        return self._serialize(run, doc, doc_id, raw_id, name, counters.extracted)

    def _judge(
        self,
        run: SyncRun,
        doc: Document,
        doc_id: str,
        name: str | None,
        *,
        whole: bool,
        rules: bool = True,
    ) -> tuple[BulkOp, int] | Literal[True] | None:
        """True when the document is to be written; else what to do instead: nothing
        (None: left out by the sync rules, or unchanged) or a delete operation. `whole`:
        the document is complete (it was read without error), so its fingerprint may be
        written with it — a partly read one must be read again next time. `rules=False`
        leaves the sync rules to `_excluded` once the content is loaded."""
        if rules and (excluded := self._excluded(run, doc, doc_id, name)) is not True:
            return excluded
        fingerprint = None
        if whole and run.fingerprints is not None:  # before the engine adds a _timestamp
            fingerprint = run.fingerprints.of(doc)
        timestamp = doc.get("_timestamp")
        if timestamp is None:
            doc["_timestamp"] = timestamp = datetime.now(UTC).isoformat()
        ledger = run.ledger
        if ledger is not None and (run.skip_unchanged or run.mode is SyncMode.TIMESTAMPS):
            indexed = ledger.existing(doc_id)
            if indexed is not None and (
                (run.skip_unchanged and fingerprint is not None and indexed[1] == fingerprint)
                or (run.mode is SyncMode.TIMESTAMPS and indexed[0] == str(timestamp))
            ):
                run.counters.unchanged += 1
                ledger.mark_seen(doc_id, run.counters.extracted)
                return None
        if fingerprint is not None:
            doc[FINGERPRINT_FIELD] = fingerprint
        return True

    @staticmethod
    def _excluded(
        run: SyncRun, doc: Document, doc_id: str, name: str | None
    ) -> tuple[BulkOp, int] | Literal[True] | None:
        """True when the sync rules let the document in; else None, or the delete operation
        of a cursor sync (the other modes delete it as unseen)."""
        if not run.rules.rules or run.rules.includes(doc):
            return True
        run.counters.skipped += 1
        if run.preview is not None:
            run.preview.exclude(doc_id, name)
        if run.mode is SyncMode.CURSOR:
            return delete_op(run.index_json, doc_id, name), 64
        return None

    async def _loaded(
        self,
        run: SyncRun,
        pending: _Pending,
        fields: Mapping[str, Any] | None,
        error: Exception | None,
    ) -> None:
        """A document's lazy content arrived (or failed): queue the document."""
        doc, doc_id, name = pending.doc, pending.doc_id, pending.name
        if error is not None:  # indexed with its metadata, like a partly read document
            reason = str(error) if isinstance(error, ContentError) else _describe(error)
            self._failed(run, doc_id, "extract", reason, name)
            doc.pop(FINGERPRINT_FIELD, None)  # read it again next time
        elif fields:
            doc.update(fields)
        if not pending.judged:
            verdict = self._excluded(run, doc, doc_id, name)
            if verdict is not True:
                if verdict is not None:
                    await run.queue.put(*verdict)  # a delete operation
                return
        queued = self._serialize(run, doc, doc_id, pending.raw_id, name, pending.number)
        if queued is not None:
            await run.queue.put(*queued)

    def _serialize(
        self,
        run: SyncRun,
        doc: Document,
        doc_id: str,
        raw_id: Any,
        name: str | None,
        number: int = 0,
    ) -> tuple[BulkOp, int] | None:
        """The index operation of a document to write (checked against the index's mappings
        and the size limit), None when it cannot be written."""
        if ATTACHMENT_FIELD in doc and run.pipeline is None:
            del doc[ATTACHMENT_FIELD]  # base64 bytes are no use without a pipeline to read them
            self._failed(run, doc_id, "extract", NO_PIPELINE_FOR_ATTACHMENT, name)
        if "id" not in doc:
            doc["id"] = raw_id if isinstance(raw_id, str) else str(raw_id)
        fit = run.fit
        if fit is not None:
            conflicts = fit.conflicts(doc)  # one set lookup per field once its type was judged
            if conflicts and run.preview is not None:  # a dry run lists them all
                for conflict in conflicts:
                    run.preview.conflict(conflict.field, conflict.describe(), name or doc_id)
            elif conflicts:
                raise IndexMismatch(mismatch_message(run.index_name, conflicts, name or doc_id))
        try:
            body = orjson.dumps(doc, default=str, option=orjson.OPT_NON_STR_KEYS)
        except (TypeError, orjson.JSONEncodeError) as exc:
            self._failed(run, doc_id, "index", f"cannot serialize the document: {exc}", name)
            return None
        size = len(body)
        if size > self.settings.max_document_size:
            run.counters.skipped += 1
            if run.preview is not None:
                run.preview.oversize(doc_id, name, size)
            self._record(
                run,
                doc_id,
                "index",
                f"skipped: the document is {size / 1048576:.1f} MiB, over the "
                f"{self.settings.max_document_size / 1048576:.0f} MiB limit",
                name,
            )
            return None
        if run.ledger is not None:
            run.ledger.mark_seen(doc_id, number)
        run.counters.bytes += size
        return index_op(run.index_json, doc_id, body, name), size

    async def _keep_unread(self, run: SyncRun, ledger: IdLedger) -> bool:
        """Keep the stale documents of the parts the source could not read (see
        `core.engine.unread`); False when nothing may be deleted at all."""
        go_on, run.notice = await keep_unread(self.client, run.index_name, ledger, run.unread)
        if run.notice:
            run.notices.append(run.notice)
        return go_on

    @staticmethod
    async def _late_confirmation(request: SyncRequest) -> int | None:
        """A confirmation that came after the job began (`SyncRequest.late_confirmation`)."""
        if request.late_confirmation is None:
            return None
        try:
            return await request.late_confirmation()
        except Exception as exc:  # the record is unreachable: the guard holds
            log.info("cannot read a late confirmation of the deletions (%s)", exc)
            return None

    async def _delete_stale(self, run: SyncRun, ledger: IdLedger, request: SyncRequest) -> None:
        """Delete what the source no longer has, unless the deletion guard stops it."""
        stale = ledger.count_unseen()  # counted first: the deletion has its own progress
        guard = request.deletion_guard
        indexed = ledger.count_existing()
        trip = guard.check(stale, indexed) if guard else None
        if trip is not None and guard is not None and run.preview is None:
            confirmed = await self._late_confirmation(request)
            if confirmed is not None and confirmed != guard.confirmed:
                trip = replace(guard, confirmed=confirmed).check(stale, indexed)
        run.guard_trip = trip
        if trip is not None and run.preview is None:  # stopped before the first delete
            log.warning("%s", trip.message(request.connector_id), extra=REPORTED)
            return
        run.stale_total = stale
        run.deletes_before_stale = run.deletes_resolved
        run.phase_rate = RateMeter()
        run.phase_rate_value = 0.0
        self._set_phase(run, Phase.DELETING)
        await self._delete_unseen(run, ledger)

    @staticmethod
    async def _delete_unseen(run: SyncRun, ledger: IdLedger) -> None:
        for page in ledger.unseen_ids():
            for doc_id in page:
                await run.queue.put(delete_op(run.index_json, doc_id), 64)

    # ------------------------------------------------------------------ outcomes

    async def _reconcile(self, run: SyncRun) -> Reconciliation:
        """What the index should hold (see `core.engine.reconcile`) against what it holds."""
        c = run.counters
        if run.mode is SyncMode.CURSOR:
            expected = None
        elif run.ledger is not None:
            expected = run.ledger.count_seen()
        else:  # a new index: what was written or found unchanged
            expected = c.indexed + c.updated + c.unchanged
        found = await reconcile(
            self.client,
            run.index_name,
            expected=expected,
            ledger=run.ledger,
            page_size=self.settings.scan_page_size,
        )
        if found.matches is False:
            log.warning("%s after the sync: %s", run.index_name, found.line(), extra=REPORTED)
        return found

    def _on_result(
        self, run: SyncRun, ok: bool, info: dict[str, Any], name: str | None = None
    ) -> None:
        """One bulk item's outcome (called by the sink for every operation)."""
        op_type, item = next(iter(info.items()))
        counters = run.counters
        if ok:
            result = item.get("result")
            if op_type == "delete":
                run.deletes_resolved += 1
                if result == "deleted":
                    counters.deleted += 1
            elif result == "created":
                counters.indexed += 1
            else:
                counters.updated += 1
            run.budget.success()
            return
        if op_type == "delete":
            run.deletes_resolved += 1
            if item.get("status") == 404:
                run.budget.success()  # already gone: the goal is reached
                return
        reason = _item_reason(item)
        self._failed(run, str(item.get("_id", "?")), op_type, reason, name)
        run.budget.failure(reason)

    def _source_failure(self, run: SyncRun, failure: SourceFailure) -> None:
        """Something the source could not read outside any document (a folder it could not
        list): a failure like a document's, so the job is not reported clean, and a part
        whose indexed documents the deletion must keep."""
        name = failure.name or None
        self._failed(run, name or "?", failure.operation or "extract", failure.reason, name)
        run.unread.append(UnreadPart.of(failure))

    def _failed(
        self, run: SyncRun, doc_id: str, operation: str, reason: str, name: str | None = None
    ) -> None:
        run.counters.failed += 1
        self._record(run, doc_id, operation, reason, name)

    def _record(
        self, run: SyncRun, doc_id: str, operation: str, reason: str, name: str | None = None
    ) -> None:
        failure = Failure(doc_id=doc_id, operation=operation, reason=reason, name=name)
        self.failure_log.record(failure)
        run.last_error = f"{name or doc_id}: {reason}"
        self._emit(FailureEvent(failure))

    # ------------------------------------------------------------------ checkpoints

    @staticmethod
    def _candidate(run: SyncRun, tracker: CheckpointTracker, source: ResumableSource) -> None:
        """Right after an item: where the source stands, as a checkpoint to confirm."""
        tracker.take(
            Checkpoint(
                position=source.read_position(),
                items=run.counters.extracted,
                counters={},
                unread=unread_docs(run.unread),
                notices=list(run.notices),
            )
        )

    @staticmethod
    def _confirm_checkpoint(run: SyncRun) -> None:
        tracker = run.tracker
        if tracker is None or run.phase is not Phase.EXTRACTING:
            return
        tracker.tick()

        def commit(checkpoint: Checkpoint) -> Checkpoint:
            if run.ledger is not None:
                run.ledger.flush()  # the ids seen before it are on disk first
            counters = {**run.counters.as_dict(), "extracted": checkpoint.items}
            return replace(checkpoint, counters=counters)

        tracker.confirm(run.loads, run.queue, run.inflight, commit)

    # ------------------------------------------------------------------ progress

    def _set_phase(self, run: SyncRun, phase: Phase) -> None:
        if phase is not run.phase:
            run.phase = phase
            self._emit(PhaseEvent(phase))

    async def _report_progress(self, run: SyncRun) -> None:
        while True:
            now = time.monotonic()
            run.rate_value = run.rate.sample(now, run.done())
            if run.stale_total is not None:
                progress = run.deletes_resolved - run.deletes_before_stale
            else:
                progress = run.counters.extracted
            run.phase_rate_value = run.phase_rate.sample(now, progress)
            self._confirm_checkpoint(run)
            self._emit(ProgressEvent(run.snapshot()))
            await asyncio.sleep(self.settings.progress_interval)

    def _emit(self, event: Any) -> None:
        if self.listener is None:
            return
        try:
            self.listener(event)
        except Exception:  # a broken listener must not break the sync
            log.exception("progress listener failed")


@contextlib.asynccontextmanager
async def _closing(items: AsyncIterator[_T]) -> AsyncIterator[AsyncIterator[_T]]:
    """Close the source's async generator however the iteration ends (its `finally` blocks
    release cursors and files); a plain async iterator has nothing to close."""
    try:
        yield items
    finally:
        if isinstance(items, AsyncGenerator):
            await items.aclose()


def _describe(exc: Exception) -> str:
    """A source's own typed errors (`sources.errors`: a `problem` and a `fix`) read as
    written; anything else gets its type, which is then the only clue."""
    if getattr(exc, "problem", None) and str(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _item_reason(item: Mapping[str, Any]) -> str:
    error = item.get("error")
    if isinstance(error, Mapping):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}".strip()
        caused = error.get("caused_by")
        if isinstance(caused, Mapping) and caused.get("reason"):
            text += f" (caused by {caused.get('type')}: {caused.get('reason')})"
        return text
    status = item.get("status")
    return f"{error or 'unknown error'}" + (f" (HTTP {status})" if status else "")
