"""The direct-index backend: `.elastic-connectors` and `.elastic-connectors-sync-jobs`.

Every request carries `X-elastic-product-origin: connectors` (recent clusters refuse direct
access to these system indices without it). Every write is a read-modify-write guarded by
`if_seq_no`/`if_primary_term` and retried on conflict with a fresh read, so concurrent writers
(other Sluice instances, Kibana, Elastic's service) never lose each other's updates, and
whole-field replacements (a new `sync_cursor`, a new configuration) are exact instead of
being deep-merged as partial updates would be. Every conditional write is also safe to
retry: it carries a write token, so a 409 that answers the transport's retry of our own
applied write is recognised as success (see `core.protocol.write_tokens`).

The Connector-API backend inherits from this class: the API has no conditional writes, so
the locks, job endings and scheduling marks stay direct, exactly as Elastic's own service
does it.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from elasticsearch import AsyncElasticsearch, BadRequestError, ConflictError, NotFoundError

from sluice.core.es.client import PRODUCT_ORIGIN_HEADER
from sluice.core.es.errors import error_type
from sluice.core.protocol import documents
from sluice.core.protocol.errors import (
    ConnectorNotFound,
    ConnectorStoreError,
    InvalidRequest,
    InvalidTransition,
    JobNotFound,
    TooManyConflicts,
)
from sluice.core.protocol.es_errors import translated
from sluice.core.protocol.identity import WorkerIdentity, with_worker
from sluice.core.protocol.mappings import (
    CONNECTORS_MAPPINGS,
    JOBS_MAPPINGS,
    SETTINGS,
    IndexNames,
)
from sluice.core.protocol.models import (
    ACTIVE_STATUSES,
    CLAIMABLE_STATUSES,
    DOTTED_SYNC_CURSOR,
    TERMINAL_STATUSES,
    Connector,
    ConnectorStatus,
    FilteringValidationState,
    JobStatus,
    JobType,
    SyncJob,
    SyncStats,
    TriggerMethod,
    scheduled_at_field,
    sync_status_fields,
)
from sluice.core.protocol.scheduling import validate_cron
from sluice.core.protocol.store import KEEP, ConnectorStore
from sluice.core.protocol.timeutil import iso_now, to_iso
from sluice.core.protocol.transitions import JOB_TRANSITIONS, check_connector_transition
from sluice.core.protocol.write_tokens import (
    CONNECTOR_SECTION,
    JOB_SECTION,
    carries,
    merged_metadata,
    new_token,
    stamped,
)

logger = logging.getLogger("sluice.protocol")

MAX_ATTEMPTS = 20
PAGE = 500
CONTENT_TYPES = (JobType.FULL, JobType.INCREMENTAL)
UNKNOWN_ERROR = "unknown error"

D = TypeVar("D", Connector, SyncJob)
Change = Callable[[D], dict[str, Any] | None]


def family(job_type: JobType | None) -> tuple[JobType, ...]:
    """Job types that share a connector's bookkeeping (and so run one at a time)."""
    if job_type is JobType.ACCESS_CONTROL:
        return (JobType.ACCESS_CONTROL,)
    return CONTENT_TYPES


class IndexConnectorStore(ConnectorStore):
    backend = "index"

    def __init__(self, client: AsyncElasticsearch, *, index_prefix: str = "") -> None:
        self._es = client.options(headers=PRODUCT_ORIGIN_HEADER)
        self.names = IndexNames(index_prefix)
        self._indices_ready = False

    # ================================================================ plumbing

    async def ensure_indices(self) -> None:
        """Create the two indices (behind their aliases, Elastic's mappings) if missing."""
        if self._indices_ready:
            return
        pairs = (
            (self.names.connectors, self.names.connectors_concrete, CONNECTORS_MAPPINGS),
            (self.names.jobs, self.names.jobs_concrete, JOBS_MAPPINGS),
        )
        for alias, concrete, mappings in pairs:
            with translated(f"checking index {alias}"):
                if await self._es.indices.exists(index=alias):
                    continue
                try:
                    await self._es.indices.create(
                        index=concrete,
                        aliases={alias: {}},
                        mappings=mappings,
                        settings=SETTINGS,
                    )
                except BadRequestError as exc:
                    if error_type(exc) != "resource_already_exists_exception":
                        raise
        self._indices_ready = True

    async def _read(self, index: str, doc_id: str, kind: type[D]) -> D | None:
        with translated(f"reading {doc_id!r} from {index}"):
            try:
                resp = await self._es.get(index=index, id=doc_id, realtime=True)
            except NotFoundError:
                return None
        return kind(
            doc_id, resp["_source"], seq_no=resp["_seq_no"], primary_term=resp["_primary_term"]
        )

    async def _write_if_unchanged(
        self, index: str, current: D, new_doc: dict[str, Any]
    ) -> D | None:
        """Replace `current` with `new_doc` unless it changed since read; None on conflict.

        Safe to retry. The transport resends a request whose answer was lost (connection
        reset, timeout), possibly after the server applied it; the resent one then gets
        409. So the document carries a fresh write token, and a 409 is checked by reading
        the document back: our token in it means the write applied (the fresh document is
        returned), else someone else's change won (None). Turning the transport's retries
        off here instead would leave the same lost-answer case, needing the same read-back
        plus a retry loop of our own; the token keeps one path for both.
        """
        kind = type(current)
        section = JOB_SECTION if issubclass(kind, SyncJob) else CONNECTOR_SECTION
        token = new_token()
        doc = stamped(new_doc, token, section)
        with translated(f"writing {current.id!r} to {index}"):
            try:
                resp = await self._es.index(
                    index=index,
                    id=current.id,
                    document=doc,
                    if_seq_no=current.seq_no,
                    if_primary_term=current.primary_term,
                    refresh=True,
                )
            except ConflictError:
                resp = None
        if resp is not None:
            return kind(current.id, doc, seq_no=resp["_seq_no"], primary_term=resp["_primary_term"])
        fresh = await self._read(index, current.id, kind)
        if fresh is not None and carries(fresh.doc, token, section):
            logger.info(
                "%s in %s: the answer to a write was lost and its retry conflicted with it; "
                "the write had been applied",
                current.id,
                index,
            )
            return fresh
        return None

    async def _modify(
        self,
        index: str,
        doc_id: str,
        kind: type[D],
        change: Change[D],
        missing: Callable[[], ConnectorStoreError],
    ) -> D:
        """Read, let `change` build the new document (None = nothing to write), write it
        conditionally; on a conflict start over from a fresh read."""
        for attempt in range(MAX_ATTEMPTS):
            current = await self._read(index, doc_id, kind)
            if current is None:
                raise missing()
            new_doc = change(current)
            if new_doc is None:
                return current
            written = await self._write_if_unchanged(index, current, new_doc)
            if written is not None:
                return written
            await asyncio.sleep(random.uniform(0, 0.02 * (attempt + 1)))
        raise TooManyConflicts(
            f"{doc_id!r} in {index} changed {MAX_ATTEMPTS} times while being updated; "
            "another process is writing it in a loop"
        )

    async def _modify_connector(
        self, connector_id: str, change: Change[Connector], *, allow_deleted: bool = False
    ) -> Connector:
        def guarded(connector: Connector) -> dict[str, Any] | None:
            if connector.deleted and not allow_deleted:
                raise ConnectorNotFound(connector_id)
            return change(connector)

        return await self._modify(
            self.names.connectors,
            connector_id,
            Connector,
            guarded,
            lambda: ConnectorNotFound(connector_id),
        )

    async def _set_connector_fields(self, connector_id: str, **values: Any) -> Connector:
        return await self._modify_connector(connector_id, lambda c: {**c.doc, **values})

    async def _modify_job(self, job_id: str, change: Change[SyncJob]) -> SyncJob:
        return await self._modify(
            self.names.jobs, job_id, SyncJob, change, lambda: JobNotFound(job_id)
        )

    async def _search(
        self, index: str, kind: type[D], query: dict[str, Any], sort: list[Any], size: int
    ) -> list[D]:
        results: list[D] = []
        offset = 0
        with translated(f"searching {index}"):
            while len(results) < size:
                page = min(PAGE, size - len(results))
                try:
                    resp = await self._es.search(
                        index=index,
                        query=query,
                        sort=sort,
                        from_=offset,
                        size=page,
                        seq_no_primary_term=True,
                    )
                except NotFoundError:
                    return []
                hits = resp["hits"]["hits"]
                results.extend(
                    kind(
                        h["_id"],
                        h["_source"],
                        seq_no=h.get("_seq_no"),
                        primary_term=h.get("_primary_term"),
                    )
                    for h in hits
                )
                if len(hits) < page:
                    break
                offset += page
        return results

    # ================================================================ connectors

    async def _ensure_index_name_free(self, index_name: str | None, exclude_id: str | None) -> None:
        if not index_name:
            return
        query: dict[str, Any] = {
            "bool": {
                "filter": [{"term": {"index_name": index_name}}],
                "must_not": [{"term": {"deleted": True}}],
            }
        }
        if exclude_id:
            query["bool"]["must_not"].append({"ids": {"values": [exclude_id]}})
        users = await self._search(self.names.connectors, Connector, query, ["_doc"], 1)
        if users:
            raise InvalidRequest(
                f"Index name [{index_name}] is used by another connector ({users[0].id}); "
                "choose another index name"
            )

    async def create_connector(
        self,
        *,
        index_name: str,
        service_type: str,
        name: str = "",
        description: str | None = None,
        language: str | None = None,
        connector_id: str | None = None,
        pipeline: Mapping[str, Any] | None = None,
        features: Mapping[str, Any] | None = None,
    ) -> Connector:
        await self.ensure_indices()
        await self._ensure_index_name_free(index_name, connector_id)
        doc = documents.new_connector_document(
            index_name=index_name,
            service_type=service_type,
            name=name,
            description=description,
            language=language,
            timestamp=iso_now(),
            pipeline=pipeline,
            features=features,
        )
        with translated("creating the connector record"):
            if connector_id:
                try:
                    resp = await self._es.create(
                        index=self.names.connectors, id=connector_id, document=doc, refresh=True
                    )
                except ConflictError:
                    raise InvalidRequest(
                        f"a connector with id {connector_id!r} already exists"
                    ) from None
            else:
                resp = await self._es.index(index=self.names.connectors, document=doc, refresh=True)
        return Connector(
            resp["_id"], doc, seq_no=resp["_seq_no"], primary_term=resp["_primary_term"]
        )

    async def get_connector(
        self, connector_id: str, *, include_deleted: bool = False
    ) -> Connector | None:
        connector = await self._read(self.names.connectors, connector_id, Connector)
        if connector is None or (connector.deleted and not include_deleted):
            return None
        return connector

    async def read_connector_versioned(self, connector_id: str) -> Connector | None:
        return await self._read(self.names.connectors, connector_id, Connector)

    async def list_connectors(
        self,
        *,
        include_deleted: bool = False,
        index_names: Sequence[str] | None = None,
        service_types: Sequence[str] | None = None,
    ) -> list[Connector]:
        query: dict[str, Any] = {"bool": {"filter": [], "must_not": []}}
        if not include_deleted:
            query["bool"]["must_not"].append({"term": {"deleted": True}})
        if index_names:
            query["bool"]["filter"].append({"terms": {"index_name": list(index_names)}})
        if service_types:
            query["bool"]["filter"].append({"terms": {"service_type": list(service_types)}})
        return await self._search(
            self.names.connectors, Connector, query, [{"index_name": "asc"}], 10_000
        )

    async def update_configuration(
        self,
        connector_id: str,
        *,
        schema: Mapping[str, Mapping[str, Any]] | None = None,
        values: Mapping[str, Any] | None = None,
        status: ConnectorStatus = ConnectorStatus.CONFIGURED,
    ) -> None:
        def change(connector: Connector) -> dict[str, Any]:
            configuration = merged_configuration(connector.configuration, schema, values)
            return {**connector.doc, "configuration": configuration, "status": status.value}

        await self._modify_connector(connector_id, change)

    async def update_status(self, connector_id: str, status: ConnectorStatus) -> None:
        def change(connector: Connector) -> dict[str, Any]:
            check_connector_transition(connector_id, connector.status, status)
            return {**connector.doc, "status": status.value}

        await self._modify_connector(connector_id, change)

    async def update_error(self, connector_id: str, error: str | None) -> None:
        status = ConnectorStatus.ERROR if error else ConnectorStatus.CONNECTED
        await self._set_connector_fields(connector_id, error=error, status=status.value)

    async def update_scheduling(
        self, connector_id: str, scheduling: Mapping[str, Mapping[str, Any]]
    ) -> None:
        check_scheduling(scheduling)

        def change(connector: Connector) -> dict[str, Any]:
            return {**connector.doc, "scheduling": merged_scheduling(connector, scheduling)}

        await self._modify_connector(connector_id, change)

    async def update_filtering_draft(
        self,
        connector_id: str,
        *,
        rules: Sequence[Mapping[str, Any]] | None = None,
        advanced_snippet: Any = KEEP,
    ) -> None:
        def change(connector: Connector) -> dict[str, Any]:
            return {
                **connector.doc,
                "filtering": filtering_with_draft(connector, rules, advanced_snippet),
            }

        await self._modify_connector(connector_id, change)

    async def update_filtering_validation(
        self,
        connector_id: str,
        state: FilteringValidationState,
        errors: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        validation = {
            "errors": [dict(e) for e in errors],
            "state": FilteringValidationState(state).value,
        }

        def change(connector: Connector) -> dict[str, Any]:
            filtering = editable_filtering(connector)
            filtering[0]["draft"]["validation"] = validation
            return {**connector.doc, "filtering": filtering}

        await self._modify_connector(connector_id, change)

    async def activate_filtering(self, connector_id: str) -> None:
        def change(connector: Connector) -> dict[str, Any]:
            filtering = editable_filtering(connector)
            draft = filtering[0]["draft"]
            state = (draft.get("validation") or {}).get("state")
            if state != FilteringValidationState.VALID.value:
                raise InvalidRequest(
                    "Filtering draft needs to be validated by the connector service before "
                    f"activation. Current filtering draft validation state [{state}] is not "
                    "equal to [valid]."
                )
            filtering[0]["active"] = copy.deepcopy(draft)
            return {**connector.doc, "filtering": filtering}

        await self._modify_connector(connector_id, change)

    async def update_index_name(self, connector_id: str, index_name: str | None) -> None:
        await self._ensure_index_name_free(index_name, connector_id)
        await self._set_connector_fields(connector_id, index_name=index_name)

    async def update_api_key_id(
        self, connector_id: str, api_key_id: str | None, api_key_secret_id: str | None = None
    ) -> None:
        await self._set_connector_fields(
            connector_id, api_key_id=api_key_id, api_key_secret_id=api_key_secret_id
        )

    async def update_name(
        self, connector_id: str, *, name: str | None = None, description: str | None = None
    ) -> None:
        values = {
            k: v for k, v in {"name": name, "description": description}.items() if v is not None
        }
        await self._set_connector_fields(connector_id, **values)

    async def update_features(self, connector_id: str, features: Mapping[str, Any]) -> None:
        await self._set_connector_fields(connector_id, features=dict(features))

    async def update_pipeline(self, connector_id: str, pipeline: Mapping[str, Any]) -> None:
        await self._set_connector_fields(connector_id, pipeline=dict(pipeline))

    async def check_in(self, connector_id: str) -> None:
        await self._set_connector_fields(connector_id, last_seen=iso_now())

    async def delete_connector(self, connector_id: str) -> None:
        await self._set_connector_fields(connector_id, deleted=True)

    # ================================================================ jobs

    async def create_job(
        self,
        connector_id: str,
        job_type: JobType = JobType.FULL,
        trigger_method: TriggerMethod = TriggerMethod.ON_DEMAND,
    ) -> str:
        connector = await self.get_connector(connector_id)
        if connector is None:
            raise ConnectorNotFound(connector_id)
        check_syncable(connector)
        await self.ensure_indices()
        doc = documents.new_job_document(
            connector, JobType(job_type), TriggerMethod(trigger_method), iso_now()
        )
        with translated(f"creating a sync job for connector {connector_id!r}"):
            resp = await self._es.index(index=self.names.jobs, document=doc, refresh=True)
        return str(resp["_id"])

    async def get_job(self, job_id: str) -> SyncJob | None:
        return await self._read(self.names.jobs, job_id, SyncJob)

    async def list_jobs(
        self,
        *,
        connector_id: str | None = None,
        status: JobStatus | None = None,
        job_types: Iterable[JobType] | None = None,
        size: int = 100,
    ) -> list[SyncJob]:
        return await self.find_jobs(
            statuses=[status] if status else None,
            connector_ids=[connector_id] if connector_id else None,
            job_types=job_types,
            oldest_first=False,
            size=size,
        )

    async def find_jobs(
        self,
        *,
        statuses: Iterable[JobStatus] | None,
        connector_ids: Iterable[str] | None = None,
        job_types: Iterable[JobType] | None = None,
        last_seen_before: datetime | None = None,
        oldest_first: bool = True,
        size: int = 1000,
    ) -> list[SyncJob]:
        filters: list[dict[str, Any]] = []
        if statuses is not None:
            filters.append({"terms": {"status": [JobStatus(s).value for s in statuses]}})
        if connector_ids is not None:
            filters.append({"terms": {"connector.id": list(connector_ids)}})
        if job_types is not None:
            filters.append({"terms": {"job_type": [JobType(t).value for t in job_types]}})
        if last_seen_before is not None:
            filters.append({"range": {"last_seen": {"lt": to_iso(last_seen_before)}}})
        order = "asc" if oldest_first else "desc"
        return await self._search(
            self.names.jobs, SyncJob, {"bool": {"filter": filters}}, [{"created_at": order}], size
        )

    # ------------------------------------------------------------ claiming

    async def claim_job(
        self,
        job_id: str,
        worker_hostname: str,
        sync_cursor: Any = None,
        *,
        worker: WorkerIdentity | None = None,
    ) -> bool:
        identity = worker or WorkerIdentity.of_this_process(worker_hostname)
        job = await self._read(self.names.jobs, job_id, SyncJob)
        if (
            job is None
            or job.status not in CLAIMABLE_STATUSES
            or job.job_type is None
            or not job.connector_id
        ):
            return False
        connector = await self.read_connector_versioned(job.connector_id)
        if connector is None or connector.deleted:
            return False
        if connector.sync_status(job.job_type) in ACTIVE_STATUSES:
            return False  # this connector already runs a job of the family
        locked = await self._write_if_unchanged(
            self.names.connectors, connector, locked_document(connector, job.job_type)
        )
        if locked is None:
            return False  # another instance locked it first
        try:
            taken = await self._take_job(job, worker_hostname, sync_cursor, identity)
        except BaseException:
            await self._unlock(locked, connector, job.job_type)
            raise
        if not taken:
            await self._unlock(locked, connector, job.job_type)
        return taken

    async def _take_job(
        self, job: SyncJob, worker_hostname: str, sync_cursor: Any, worker: WorkerIdentity
    ) -> bool:
        """Mark `job` in_progress for us (with our instance identity in its `metadata`),
        only if it is still as read before the lock."""
        now = iso_now()
        doc = copy.deepcopy(job.doc)
        doc.update(
            status=JobStatus.IN_PROGRESS.value,
            started_at=now,
            last_seen=now,
            worker_hostname=worker_hostname,
            metadata=with_worker(doc.get("metadata"), worker),
        )
        if sync_cursor is not None:
            doc.setdefault("connector", {})["sync_cursor"] = sync_cursor
            if DOTTED_SYNC_CURSOR in doc:  # claimed by Elastic's service before: keep both
                doc[DOTTED_SYNC_CURSOR] = sync_cursor  # readers agreeing on the cursor
        return await self._write_if_unchanged(self.names.jobs, job, doc) is not None

    async def _unlock(self, locked: Connector, before: Connector, job_type: JobType) -> None:
        """Give back a lock taken for a claim that did not happen."""
        status_field, error_field = sync_status_fields(job_type)
        restore = {k: before.doc.get(k) for k in ("status", "error", status_field, error_field)}

        def change(connector: Connector) -> dict[str, Any] | None:
            if connector.sync_status(job_type) is not JobStatus.IN_PROGRESS:
                return None
            return {**connector.doc, **restore}

        if await self._write_if_unchanged(self.names.connectors, locked, {**locked.doc, **restore}):
            return
        try:
            await self._modify_connector(locked.id, change, allow_deleted=True)
        except ConnectorNotFound:
            pass

    # ------------------------------------------------------------ running jobs

    async def update_job_stats(
        self,
        job_id: str,
        stats: SyncStats | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        def change(job: SyncJob) -> dict[str, Any]:
            doc = {**job.doc, "last_seen": iso_now(), **(stats.as_fields() if stats else {})}
            if metadata is not None:
                doc["metadata"] = merged_metadata(job.doc.get("metadata"), metadata)
            return doc

        await self._modify_job(job_id, change)

    async def request_cancel(self, job_id: str) -> None:
        def change(job: SyncJob) -> dict[str, Any]:
            now = iso_now()
            if job.status in CLAIMABLE_STATUSES:
                return {
                    **job.doc,
                    "status": JobStatus.CANCELED.value,
                    "cancelation_requested_at": now,
                    "canceled_at": now,
                    "completed_at": now,
                }
            if job.status is JobStatus.IN_PROGRESS:
                return {
                    **job.doc,
                    "status": JobStatus.CANCELING.value,
                    "cancelation_requested_at": now,
                }
            raise InvalidTransition(f"sync job {job_id!r}", job.status, JobStatus.CANCELING)

        await self._modify_job(job_id, change)

    async def complete_job(
        self,
        job_id: str,
        stats: SyncStats | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        sync_cursor: Any = KEEP,
    ) -> SyncJob:
        return await self._finish(
            job_id, JobStatus.COMPLETED, None, stats, metadata, sync_cursor=sync_cursor
        )

    async def fail_job(
        self,
        job_id: str,
        error: str,
        stats: SyncStats | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> SyncJob:
        return await self._finish(job_id, JobStatus.ERROR, error or UNKNOWN_ERROR, stats, metadata)

    async def cancel_job(
        self,
        job_id: str,
        stats: SyncStats | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> SyncJob:
        return await self._finish(job_id, JobStatus.CANCELED, None, stats, metadata)

    async def suspend_job(
        self,
        job_id: str,
        stats: SyncStats | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> SyncJob:
        return await self._finish(job_id, JobStatus.SUSPENDED, None, stats, metadata)

    async def _finish(
        self,
        job_id: str,
        target: JobStatus,
        error: str | None,
        stats: SyncStats | None,
        metadata: Mapping[str, Any] | None,
        *,
        sync_cursor: Any = KEEP,
    ) -> SyncJob:
        def change(job: SyncJob) -> dict[str, Any]:
            final = ending_status(job, target)
            return ended_document(job, final, error, stats, metadata)

        job = await self._modify_job(job_id, change)
        await self._record_outcome(job, sync_cursor)
        return job

    async def _record_outcome(self, job: SyncJob, sync_cursor: Any = KEEP) -> None:
        """Connector bookkeeping after a job ended (Elastic's `sync_done`). The family lock
        is released only when no other job of the family runs for this connector."""
        if not job.connector_id or job.job_type is None:
            return
        others = [
            other
            for other in await self.find_jobs(
                statuses=ACTIVE_STATUSES,
                connector_ids=[job.connector_id],
                job_types=family(job.job_type),
                size=10,
            )
            if other.id != job.id
        ]
        try:
            await self._modify_connector(
                job.connector_id,
                lambda c: (
                    None if c.deleted else outcome_document(c, job, sync_cursor, release=not others)
                ),
                allow_deleted=True,
            )
        except ConnectorNotFound:
            logger.info("connector %s of job %s is gone; no bookkeeping", job.connector_id, job.id)

    # ------------------------------------------------------------ cleanup & scheduling

    async def fail_stale_job(self, job: SyncJob, error: str) -> bool:
        if not job.versioned:
            fresh = await self.get_job(job.id)
            if fresh is None:
                return False
            job = fresh
        if job.is_terminal:
            return False
        ended = await self._write_if_unchanged(
            self.names.jobs, job, ended_document(job, JobStatus.ERROR, error, None, None)
        )
        if ended is None:
            return False
        await self._record_outcome(ended)
        return True

    async def release_orphan_lock(self, connector: Connector, job_type: JobType) -> bool:
        if not connector.versioned:
            return False
        latest = await self.find_jobs(
            statuses=TERMINAL_STATUSES | {JobStatus.SUSPENDED},
            connector_ids=[connector.id],
            job_types=family(job_type),
            oldest_first=False,
            size=1,
        )
        status_field, error_field = sync_status_fields(job_type)
        doc = dict(connector.doc)
        if latest:
            doc[status_field] = latest[0].status.value if latest[0].status else None
            doc[error_field] = latest[0].error
        else:
            doc[status_field] = None
            doc[error_field] = None
        return await self._write_if_unchanged(self.names.connectors, connector, doc) is not None

    async def mark_scheduled(
        self, connector: Connector, job_type: JobType, at: datetime
    ) -> Connector | None:
        if not connector.versioned:
            fresh = await self.read_connector_versioned(connector.id)
            if fresh is None:
                return None
            connector = fresh
        doc = {**connector.doc, scheduled_at_field(job_type): to_iso(at)}
        return await self._write_if_unchanged(self.names.connectors, connector, doc)


# ==================================================================== pure helpers


def merged_configuration(
    current: Mapping[str, Mapping[str, Any]],
    schema: Mapping[str, Mapping[str, Any]] | None,
    values: Mapping[str, Any] | None,
) -> dict[str, dict[str, Any]]:
    """The configuration after an update: `schema` replaces the whole map, `values` fills
    values of existing keys only (as Elasticsearch's `_configuration` endpoint)."""
    if schema is None and values is None:
        raise InvalidRequest("[configuration] and [values] cannot both be null.")
    base = copy.deepcopy(dict(schema if schema is not None else current))
    configuration = {key: dict(entry) for key, entry in base.items()}
    unknown = sorted(set(values or {}) - set(configuration))
    if unknown:
        raise InvalidRequest(
            f"Unknown [configuration] fields in the request payload: [{', '.join(unknown)}]. "
            "Remove them from request or register their schema first."
        )
    for key, value in (values or {}).items():
        configuration[key]["value"] = value
    return configuration


def check_scheduling(scheduling: Mapping[str, Mapping[str, Any]]) -> None:
    known = {t.value for t in JobType}
    for job_type, entry in scheduling.items():
        if job_type not in known:
            raise InvalidRequest(
                f"scheduling: unknown job type {job_type!r} (use full, incremental or "
                "access_control)"
            )
        if "interval" in entry:
            problem = validate_cron(str(entry["interval"]))
            if problem:
                raise InvalidRequest(f"scheduling.{job_type}.interval: {problem}")
        if "enabled" in entry and not isinstance(entry["enabled"], bool):
            raise InvalidRequest(f"scheduling.{job_type}.enabled must be true or false")


def merged_scheduling(
    connector: Connector, scheduling: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    result = documents.default_scheduling()
    for job_type, entry in connector.scheduling.items():
        result[job_type] = {**result.get(job_type, {}), **dict(entry)}
    for job_type, asked in scheduling.items():
        result[job_type] = {**result.get(job_type, {}), **dict(asked)}
    return result


def editable_filtering(connector: Connector) -> list[dict[str, Any]]:
    """A deep copy of the filtering list with the DEFAULT domain first and complete."""
    filtering = copy.deepcopy(connector.filtering) or documents.default_filtering(iso_now())
    filtering.sort(key=lambda entry: entry.get("domain", "DEFAULT") != "DEFAULT")
    first = filtering[0]
    now = iso_now()
    first.setdefault("domain", "DEFAULT")
    first.setdefault("active", documents.default_filter(now))
    first.setdefault("draft", documents.default_filter(now))
    return filtering


def filtering_with_draft(
    connector: Connector, rules: Sequence[Mapping[str, Any]] | None, snippet: Any
) -> list[dict[str, Any]]:
    now = iso_now()
    filtering = editable_filtering(connector)
    draft = filtering[0]["draft"]
    if rules is not None:
        draft["rules"] = documents.normalized_rules(rules, now)
    if snippet is not KEEP:
        draft["advanced_snippet"] = documents.advanced_snippet(
            snippet, draft.get("advanced_snippet"), now
        )
    draft["validation"] = {"errors": [], "state": FilteringValidationState.EDITED.value}
    return filtering


def check_syncable(connector: Connector) -> None:
    """The checks `POST _connector/_sync_job` makes before queueing a job."""
    if not connector.index_name:
        raise InvalidRequest(
            f"Cannot start a sync for connector [{connector.id}] with no index attached. "
            "Set the [index_name] property for the connector to enable syncing data."
        )
    if not connector.service_type:
        raise InvalidRequest(
            f"Cannot start a sync for connector [{connector.id}] with [service_type] not "
            "defined. Set the service type of your connector before starting the sync."
        )


def locked_document(connector: Connector, job_type: JobType) -> dict[str, Any]:
    """Elastic's `sync_starts`: the connector is connected and its family in progress."""
    status_field, error_field = sync_status_fields(job_type)
    return {
        **connector.doc,
        "status": ConnectorStatus.CONNECTED.value,
        "error": None,
        status_field: JobStatus.IN_PROGRESS.value,
        error_field: None,
    }


def ending_status(job: SyncJob, target: JobStatus) -> JobStatus:
    """Where a job ends when its runner asks for `target`: a cancel requested meanwhile
    wins over completing or suspending; anything else must follow the state machine
    (a runner may also cancel its own running job)."""
    current = job.status
    if current is JobStatus.CANCELING and target in (JobStatus.COMPLETED, JobStatus.SUSPENDED):
        return JobStatus.CANCELED
    allowed = set(JOB_TRANSITIONS.get(current, frozenset())) if current else set()
    if current is JobStatus.IN_PROGRESS:
        allowed.add(JobStatus.CANCELED)
    if target not in allowed:
        raise InvalidTransition(f"sync job {job.id!r}", current, target)
    return target


def ended_document(
    job: SyncJob,
    status: JobStatus,
    error: str | None,
    stats: SyncStats | None,
    metadata: Mapping[str, Any] | None,
) -> dict[str, Any]:
    now = iso_now()
    doc = copy.deepcopy(job.doc)
    doc.update(
        last_seen=now, status=status.value, error=error if status is JobStatus.ERROR else None
    )
    if status in TERMINAL_STATUSES:
        doc["completed_at"] = now
    if status is JobStatus.CANCELED:
        doc["canceled_at"] = now
    doc.update(stats.as_fields() if stats else {})
    if metadata is not None:
        doc["metadata"] = merged_metadata(job.doc.get("metadata"), metadata)
    return doc


def outcome_document(
    connector: Connector, job: SyncJob, sync_cursor: Any, *, release: bool
) -> dict[str, Any]:
    """The connector after `job` ended (Elastic's `sync_done`)."""
    status = job.status or JobStatus.ERROR
    error = job.error if status is JobStatus.ERROR else None
    if status is JobStatus.ERROR and not error:
        error = UNKNOWN_ERROR
    status_field, error_field = sync_status_fields(job.job_type or JobType.FULL)
    doc = dict(connector.doc)
    doc.update(
        last_synced=iso_now(),
        status=(ConnectorStatus.ERROR if error else ConnectorStatus.CONNECTED).value,
        error=error,
    )
    if release or connector.sync_status(job.job_type or JobType.FULL) not in ACTIVE_STATUSES:
        doc[status_field] = status.value
        doc[error_field] = error
    if job.is_content_sync and status is JobStatus.COMPLETED and sync_cursor is not KEEP:
        doc["sync_cursor"] = sync_cursor
    if job.is_terminal:
        doc["last_indexed_document_count"] = job.indexed_document_count
        doc["last_deleted_document_count"] = job.deleted_document_count
    return doc
