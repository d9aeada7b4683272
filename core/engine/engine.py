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
* an index that existed before the sync is read once for its mappings, and each document
  whose fields it has not judged yet is checked against them before it is queued
  (`core.engine.mapping_fit`): a field the index would reject fails the sync before that
  document is written, naming the fields, instead of failing documents one by one;
* what the user should know although the sync went on (a missing ingest pipeline, stale
  documents kept) is in the result's `notices` and in every progress snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
from elasticsearch import AsyncElasticsearch, AuthorizationException, NotFoundError
from elasticsearch.exceptions import ApiError, TransportError
from sluice.core.content_index import create_content_index
from sluice.core.engine.budget import ErrorBudget, ErrorBudgetExceeded
from sluice.core.engine.failures import FailureLog
from sluice.core.engine.ids import normalize_id
from sluice.core.engine.mapping_fit import MappingFit, mismatch_message
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
from sluice.core.engine.rules import SyncRules
from sluice.core.engine.settings import EngineSettings
from sluice.core.engine.sink import BulkOp, StallWatch, delete_op, index_op, run_sink_worker
from sluice.core.engine.snapshot import IdLedger, scan_index_ids
from sluice.core.engine.source import (
    FAILURE_FIELD,
    NAME_FIELD,
    OPERATION_FIELD,
    Document,
    DocumentSource,
    Operation,
)
from sluice.core.engine.unread import UnreadPart, keep_unread

log = logging.getLogger("sluice.engine")

#: The field a source sets on a document it could only partly read (see sources.base).
ERROR_FIELD = "_sluice_error"
#: Elastic's field for file bytes (base64) that the ingest pipeline's attachment processor reads.
ATTACHMENT_FIELD = "_attachment"
NO_PIPELINE_FOR_ATTACHMENT = (
    "the source sent the file for the cluster to extract (_attachment), but the connector's "
    "ingest pipeline does not exist here: indexed without its text (create the pipeline, or "
    "let Sluice extract the text)"
)
_STOP_POLL_SECONDS = 0.1


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


class SyncMode(StrEnum):
    FULL = "full"  # everything, then delete what the source no longer has
    CURSOR = "cursor"  # the source's own changes since `sync_cursor`
    TIMESTAMPS = "timestamps"  # everything, skipping documents whose `_timestamp` is unchanged


@dataclass(frozen=True, slots=True)
class SyncRequest:
    """What to sync: the job's snapshot of the connector, in engine terms."""

    index_name: str
    incremental: bool = False
    filtering: Mapping[str, Any] | None = None  # the active filter {rules, advanced_snippet}
    sync_cursor: Any = None
    pipeline: str | None = None  # ingest pipeline name; used only where it exists
    language: str | None = None  # analyzer language when the index must be created


@dataclass(slots=True)
class SyncResult:
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


@dataclass
class _Run:
    """Mutable state of one sync."""

    request: SyncRequest
    mode: SyncMode
    rules: SyncRules
    queue: ByteBoundedQueue[BulkOp]
    ledger: IdLedger | None
    started: float = field(default_factory=time.monotonic)
    source_error: str | None = None
    listing_error: str | None = None
    unread: list[UnreadPart] = field(default_factory=list)  # parts the source could not read
    notice: str | None = None  # why stale documents were kept
    index_json: bytes = b""  # the index name as JSON, for the bulk headers
    pipeline: str | None = None  # the ingest pipeline in use, if the cluster has it
    fit: MappingFit | None = None  # the existing index's mappings, to judge documents by

    def __post_init__(self) -> None:
        self.index_json = orjson.dumps(self.request.index_name)


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
    ) -> None:
        self.client = client
        self.settings = settings or EngineSettings()
        self.listener = listener
        self.failure_log = failure_log or FailureLog(None)
        self.stop = stop or StopSignal()
        self.work_dir = work_dir
        self.counters = Counters()
        self.phase = Phase.STARTING
        self.last_error: str | None = None
        self._budget = ErrorBudget(self.settings)
        self._stalls = StallWatch(self._emit)
        self._rate = RateMeter()
        self._phase_rate = RateMeter()
        self._started = time.monotonic()
        self._rate_value = 0.0
        self._phase_rate_value = 0.0
        self._index_created = False
        self._mappings: Mapping[str, Any] | None = None  # of an index that existed
        self._index_settings: Mapping[str, Any] = {}  # its index.mapping.* settings
        self.notices: list[str] = []  # for the user, although the sync goes on
        self.total: int | None = None  # documents the source will yield, when it says
        self.stale_total: int | None = None  # stale documents to delete, once counted
        self._deletes_resolved = 0  # delete operations answered (deleted, gone or failed)
        self._deletes_before_stale = 0

    # ------------------------------------------------------------------ public

    def snapshot(self) -> ProgressSnapshot:
        return ProgressSnapshot(
            phase=self.phase,
            counters=self.counters.copy(),
            elapsed=time.monotonic() - self._started,
            docs_per_second=self._rate_value,
            total=self.total,
            last_error=self.last_error,
            stale_total=self.stale_total,
            stale_done=self._deletes_resolved - self._deletes_before_stale,
            phase_rate=self._phase_rate_value,
            stalled=self._stalls.current,
            notices=tuple(self.notices),
        )

    async def run(self, source: DocumentSource, request: SyncRequest) -> SyncResult:
        """Sync `source` into `request.index_name`; never raises for sync failures (they are
        in the result), only for programming errors."""
        self._started = time.monotonic()
        reporter = asyncio.create_task(self._report_progress())
        status, error, cursor, pipeline = SyncStatus.COMPLETED, None, None, None
        notice: str | None = None
        try:
            pipeline = await self._prepare_index(request)
            mode = self._mode(source, request)
            run = _Run(
                request=request,
                mode=mode,
                rules=SyncRules((request.filtering or {}).get("rules") or []),
                queue=ByteBoundedQueue(
                    self.settings.queue_max_size, self.settings.queue_max_mem_size
                ),
                # A cursor sync deletes only what the source says; an index created just
                # now holds nothing to list or delete.
                ledger=None
                if mode is SyncMode.CURSOR or self._index_created
                else IdLedger(self.work_dir),
                pipeline=pipeline,
                fit=self._fit(pipeline),
            )
            counting = self._start_counting(source, run)
            try:
                await self._run_until_stopped(source, run, pipeline)
            finally:
                if counting is not None:
                    counting.cancel()
                if run.ledger is not None:
                    run.ledger.close()
            error = run.source_error or run.listing_error
            notice = run.notice
            if error:
                status = SyncStatus.ERROR
            elif self._supports_cursor(source):
                cursor = getattr(source, "sync_cursor", None)
        except _Stopped as stopped:
            status = stopped.status
        except ErrorBudgetExceeded as exc:
            status = SyncStatus.ERROR
            if self._stalls.outage:  # no request got through: not the documents' fault
                error = f"Elasticsearch unreachable: {self._stalls.outage}"
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
        if error:
            self.last_error = error
        self._set_phase(Phase.DONE)
        elapsed = time.monotonic() - self._started
        self._rate_value = self._done() / elapsed if elapsed > 0 else 0.0  # the average
        self._phase_rate_value = 0.0
        snapshot = replace(self.snapshot(), status=status, stalled=None)
        self._emit(FinishedEvent(status, snapshot, error))
        return SyncResult(
            status=status,
            counters=snapshot.counters,
            elapsed=snapshot.elapsed,
            error=error,
            sync_cursor=cursor,
            failures_recorded=self.failure_log.recorded,
            pipeline=pipeline,
            notice=notice,
            notices=list(self.notices),
        )

    # ------------------------------------------------------------------ set-up

    def _start_counting(self, source: DocumentSource, run: _Run) -> asyncio.Task[None] | None:
        """Ask the source how many documents are coming (optional), alongside the sync."""
        count = getattr(source, "count_documents", None)
        if run.mode is SyncMode.CURSOR or not callable(count):
            return None

        async def counting() -> None:
            try:
                total = await count(run.request.filtering)
            except Exception as exc:  # progress only: never fails the sync
                log.debug("the source could not count its documents: %s", exc)
                return
            self.total = int(total) if total is not None else None

        return asyncio.create_task(counting())

    @staticmethod
    def _supports_cursor(source: DocumentSource) -> bool:
        check = getattr(source, "supports_incremental_sync", None)
        return bool(check()) if callable(check) else hasattr(source, "get_docs_incrementally")

    def _mode(self, source: DocumentSource, request: SyncRequest) -> SyncMode:
        if not request.incremental:
            return SyncMode.FULL
        if self._supports_cursor(source) and request.sync_cursor is not None:
            return SyncMode.CURSOR
        return SyncMode.TIMESTAMPS

    async def _prepare_index(self, request: SyncRequest) -> str | None:
        """Create the content index when missing; return the pipeline to use, if any."""
        self._index_created = await create_content_index(
            self.client, request.index_name, language=request.language
        )
        if not self._index_created:  # one made now has only Sluice's mappings: nothing to judge
            self._mappings = await self._existing_mappings(request.index_name)
        if not request.pipeline:
            return None
        try:
            await self.client.ingest.get_pipeline(id=request.pipeline)
        except NotFoundError:
            # Kept on purpose (`search-default-ingestion` is missing on many clusters), but
            # shown: in the job's metadata, `sluice job show` and the dashboard.
            self.notices.append(pipeline_missing_notice(request.pipeline))
            log.warning("%s", self.notices[-1])
            return None
        except AuthorizationException:
            # Elastic's least-privilege connector key (monitor + manage_connector) may not
            # read pipelines; Elastic's service uses the pipeline unchecked, and so do we.
            log.info("cannot check ingest pipeline %r (no privilege); using it", request.pipeline)
            return request.pipeline
        except ApiError as exc:
            self.notices.append(
                f"cannot read ingest pipeline {request.pipeline!r} ({exc}): indexed without it"
            )
            log.warning("%s", self.notices[-1])
            return None
        return request.pipeline

    async def _existing_mappings(self, index: str) -> Mapping[str, Any] | None:
        """The mappings of `index` (`GET <index>/_mapping`), or None to skip the preflight."""
        try:
            body = (await self.client.indices.get_mapping(index=index)).body
        except AuthorizationException:
            log.debug("cannot read the mapping of %s (no privilege): no mapping preflight", index)
            return None
        except ApiError as exc:
            log.info("cannot read the mapping of %s (%s): no mapping preflight", index, exc)
            return None
        entries = list(body.values()) if isinstance(body, Mapping) else []
        if len(entries) != 1 or not isinstance(entries[0], Mapping):
            return None  # an alias of several indices (the bulk requests fail anyway)
        mappings = entries[0].get("mappings")
        if not isinstance(mappings, Mapping):
            return None
        try:  # index-wide defaults of the fields' ignore_malformed and coerce
            found = await self.client.indices.get_settings(
                index=index, name="index.mapping.*", flat_settings=True
            )
            (entry,) = found.body.values()
            self._index_settings = dict(entry.get("settings") or {})
        except (ApiError, ValueError, AttributeError) as exc:
            log.info("cannot read the settings of %s (%s): their defaults assumed", index, exc)
        return mappings

    def _fit(self, pipeline: str | None) -> MappingFit | None:
        """The judge of documents against the existing index, if there is one to judge by;
        a pipeline consumes `_attachment` before the mapping sees the document."""
        if self._mappings is None:
            return None
        return MappingFit(
            self._mappings,
            ignore=(ATTACHMENT_FIELD,) if pipeline else (),
            settings=self._index_settings,
        )

    # ------------------------------------------------------------------ pipeline

    async def _run_until_stopped(
        self, source: DocumentSource, run: _Run, pipeline: str | None
    ) -> None:
        work = asyncio.create_task(self._pipeline(source, run, pipeline))
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

    async def _pipeline(self, source: DocumentSource, run: _Run, pipeline: str | None) -> None:
        turn = asyncio.Lock()
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, self.settings.max_concurrency)):
                group.create_task(
                    run_sink_worker(
                        self.client,
                        run.queue,
                        self.settings,
                        self._on_result,
                        pipeline,
                        turn,
                        self._stalls,
                    )
                )
            group.create_task(self._feed(source, run))

    async def _feed(self, source: DocumentSource, run: _Run) -> None:
        """Produce every operation, then close the queue so the sink workers finish."""
        listing: asyncio.Task[None] | None = None
        try:
            if run.ledger is not None and run.mode is SyncMode.TIMESTAMPS:
                self._set_phase(Phase.LISTING)  # timestamps are needed before extracting
                await self._list_existing(run, with_timestamps=True)
            elif run.ledger is not None:  # listed while the source is read
                listing = asyncio.create_task(self._list_existing(run, with_timestamps=False))
            self._set_phase(Phase.EXTRACTING)
            try:
                await self._extract(source, run)
            except asyncio.CancelledError:
                raise
            except IndexMismatch as exc:
                run.source_error = str(exc)  # the extraction stopped: nothing is deleted
                log.warning("%s", exc)
                if listing is not None:  # so no need to list the index to its end: fail fast
                    listing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await listing
                    listing = None
            except Exception as exc:
                run.source_error = f"the source failed: {_describe(exc)}"
                log.warning("%s; stale documents are kept", run.source_error)
            if listing is not None:
                await listing
            if (
                run.ledger is not None
                and run.source_error is None
                and run.listing_error is None
                and await self._keep_unread(run)
            ):
                # Counted first, so the deletion has its own progress and ETA.
                self.stale_total = run.ledger.count_unseen()
                self._deletes_before_stale = self._deletes_resolved
                self._phase_rate = RateMeter()
                self._phase_rate_value = 0.0
                self._set_phase(Phase.DELETING)
                await self._delete_unseen(run)
            self._set_phase(Phase.FINISHING)
        finally:
            if listing is not None and not listing.done():
                listing.cancel()
            run.queue.close()

    async def _list_existing(self, run: _Run, *, with_timestamps: bool) -> None:
        assert run.ledger is not None
        index = run.request.index_name
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
                with_timestamps=with_timestamps,
            ):
                run.ledger.add_existing(page)
        except ApiError as exc:
            run.listing_error = f"could not list the index's documents: {exc}"

    async def _extract(self, source: DocumentSource, run: _Run) -> None:
        filtering = run.request.filtering
        queue = run.queue
        prepare = self._operation
        if run.mode is SyncMode.CURSOR:
            changes = source.get_docs_incrementally(  # type: ignore[attr-defined]
                run.request.sync_cursor, filtering
            )
            async with contextlib.aclosing(changes):
                async for doc, operation in changes:
                    queued = prepare(run, doc, Operation(operation))
                    if queued is not None and not queue.try_put(*queued):
                        await queue.put(*queued)
        else:
            docs: AsyncIterator[Document] = source.get_docs(filtering)
            index = Operation.INDEX
            async with contextlib.aclosing(docs):  # type: ignore[type-var]
                async for doc in docs:
                    queued = prepare(run, doc, index)
                    # The hot path: no coroutine per document unless the queue is full.
                    if queued is not None and not queue.try_put(*queued):
                        await queue.put(*queued)

    def _operation(
        self, run: _Run, doc: Document, operation: Operation
    ) -> tuple[BulkOp, int] | None:
        """The bulk operation (and its size) for one source document; None to skip it."""
        counters = self.counters
        raw_id = doc.pop("_id", None)
        if raw_id is None or raw_id == "":
            if FAILURE_FIELD in doc:  # not a document: something the source could not read
                self._source_failure(run, doc)
                return None
            counters.extracted += 1
            self._failed("?", "index", "the source yielded a document without an _id")
            return None
        counters.extracted += 1
        doc_id = normalize_id(raw_id)
        name = doc.pop(NAME_FIELD, None) or doc.get("path") or doc.get("title")
        if name is not None and not isinstance(name, str):
            name = str(name)
        if operation is Operation.DELETE:
            return delete_op(run.index_json, doc_id, name), 64
        if ERROR_FIELD in doc:
            self._failed(doc_id, "extract", str(doc.pop(ERROR_FIELD)), name)
        if ATTACHMENT_FIELD in doc and run.pipeline is None:
            del doc[ATTACHMENT_FIELD]  # base64 bytes are no use without a pipeline to read them
            self._failed(doc_id, "extract", NO_PIPELINE_FOR_ATTACHMENT, name)
        if run.rules.rules and not run.rules.includes(doc):
            counters.skipped += 1
            if run.mode is SyncMode.CURSOR:  # the other modes delete it as unseen
                return delete_op(run.index_json, doc_id, name), 64
            return None
        ledger = run.ledger
        timestamp = doc.get("_timestamp")
        if timestamp is None:
            doc["_timestamp"] = timestamp = datetime.now(UTC).isoformat()
        if (
            run.mode is SyncMode.TIMESTAMPS
            and ledger is not None
            and ledger.existing_timestamp(doc_id) == str(timestamp)
        ):
            counters.skipped += 1
            ledger.mark_seen(doc_id)
            return None
        if "id" not in doc:
            doc["id"] = raw_id if isinstance(raw_id, str) else str(raw_id)
        fit = run.fit
        if fit is not None:
            conflicts = fit.conflicts(doc)  # one set lookup per field once its type was judged
            if conflicts:
                index = run.request.index_name
                raise IndexMismatch(mismatch_message(index, conflicts, name or doc_id))
        try:
            body = orjson.dumps(doc, default=str, option=orjson.OPT_NON_STR_KEYS)
        except (TypeError, orjson.JSONEncodeError) as exc:
            self._failed(doc_id, "index", f"cannot serialize the document: {exc}", name)
            return None
        size = len(body)
        if size > self.settings.max_document_size:
            counters.skipped += 1
            self._record(
                doc_id,
                "index",
                f"skipped: the document is {size / 1048576:.1f} MiB, over the "
                f"{self.settings.max_document_size / 1048576:.0f} MiB limit",
                name,
            )
            return None
        if ledger is not None:
            ledger.mark_seen(doc_id)
        counters.bytes += size
        return index_op(run.index_json, doc_id, body, name), size

    async def _keep_unread(self, run: _Run) -> bool:
        """Keep the stale documents of the parts the source could not read (see
        `core.engine.unread`); False when nothing may be deleted at all."""
        assert run.ledger is not None
        go_on, run.notice = await keep_unread(
            self.client, run.request.index_name, run.ledger, run.unread
        )
        if run.notice:
            self.notices.append(run.notice)
        return go_on

    async def _delete_unseen(self, run: _Run) -> None:
        assert run.ledger is not None
        for page in run.ledger.unseen_ids():
            for doc_id in page:
                await run.queue.put(delete_op(run.index_json, doc_id), 64)

    # ------------------------------------------------------------------ outcomes

    def _on_result(self, ok: bool, info: dict[str, Any], name: str | None = None) -> None:
        """One bulk item's outcome (called by the sink for every operation)."""
        op_type, item = next(iter(info.items()))
        counters = self.counters
        if ok:
            result = item.get("result")
            if op_type == "delete":
                self._deletes_resolved += 1
                if result == "deleted":
                    counters.deleted += 1
            elif result == "created":
                counters.indexed += 1
            else:
                counters.updated += 1
            self._budget.success()
            return
        if op_type == "delete":
            self._deletes_resolved += 1
            if item.get("status") == 404:
                self._budget.success()  # already gone: the goal is reached
                return
        reason = _item_reason(item)
        self._failed(str(item.get("_id", "?")), op_type, reason, name)
        self._budget.failure(reason)

    def _source_failure(self, run: _Run, record: Document) -> None:
        """Something the source could not read outside any document (a folder it could not
        list): a failure like a document's, so the job is not reported clean, and a part
        whose indexed documents the deletion must keep."""
        name = record.get(NAME_FIELD)
        name = None if name is None else str(name)
        operation = str(record.get(OPERATION_FIELD) or "extract")
        self._failed(name or "?", operation, str(record[FAILURE_FIELD]), name)
        run.unread.append(UnreadPart.of(name or "part of the source", operation, record))

    def _failed(self, doc_id: str, operation: str, reason: str, name: str | None = None) -> None:
        self.counters.failed += 1
        self._record(doc_id, operation, reason, name)

    def _record(self, doc_id: str, operation: str, reason: str, name: str | None = None) -> None:
        failure = Failure(doc_id=doc_id, operation=operation, reason=reason, name=name)
        self.failure_log.record(failure)
        self.last_error = f"{name or doc_id}: {reason}"
        self._emit(FailureEvent(failure))

    # ------------------------------------------------------------------ progress

    def _done(self) -> int:
        c = self.counters
        return c.indexed + c.updated + c.deleted + c.skipped

    def _set_phase(self, phase: Phase) -> None:
        if phase is not self.phase:
            self.phase = phase
            self._emit(PhaseEvent(phase))

    async def _report_progress(self) -> None:
        while True:
            now = time.monotonic()
            self._rate_value = self._rate.sample(now, self._done())
            if self.stale_total is not None:
                progress = self._deletes_resolved - self._deletes_before_stale
            else:
                progress = self.counters.extracted
            self._phase_rate_value = self._phase_rate.sample(now, progress)
            self._emit(ProgressEvent(self.snapshot()))
            await asyncio.sleep(self.settings.progress_interval)

    def _emit(self, event: Any) -> None:
        if self.listener is None:
            return
        try:
            self.listener(event)
        except Exception:  # a broken listener must not break the sync
            log.exception("progress listener failed")


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
