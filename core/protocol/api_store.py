"""The Connector-API backend (Elasticsearch 8.12+, job claim 8.15+).

Everything the API offers goes through `client.connector.*`: records, configuration,
scheduling, sync rules, check-ins, job creation, claim, stats and cancel requests. The API
has no conditional writes and no endpoints to end a job, so, exactly like Elastic's own
service, the per-connector lock (`last_sync_status` with `if_seq_no`), job endings, stale-job
cleanup and scheduling marks stay direct writes to the indices (inherited from the index
backend, with the `X-elastic-product-origin: connectors` header).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch, NotFoundError, TransportError
from elasticsearch.exceptions import GeneralAvailabilityWarning

from sluice.core.es.client import RETRY_ON_STATUS
from sluice.core.protocol import documents
from sluice.core.protocol.errors import (
    ConnectorNotFound,
    ConnectorStoreError,
    InvalidRequest,
    JobNotFound,
)
from sluice.core.protocol.es_errors import translated
from sluice.core.protocol.identity import WorkerIdentity, with_worker
from sluice.core.protocol.index_store import (
    IndexConnectorStore,
    check_scheduling,
    merged_configuration,
    merged_scheduling,
)
from sluice.core.protocol.models import (
    CLAIMABLE_STATUSES,
    DOTTED_SYNC_CURSOR,
    Connector,
    ConnectorStatus,
    FilteringValidationState,
    JobStatus,
    JobType,
    SyncJob,
    SyncStats,
    TriggerMethod,
)
from sluice.core.protocol.store import KEEP
from sluice.core.protocol.timeutil import iso_now
from sluice.core.protocol.write_tokens import merged_metadata

PAGE = 100
#: Sends of a cancel request whose answers are lost, and the pause unit between them.
CANCEL_ATTEMPTS = 4
CANCEL_PAUSE = 0.5

logger = logging.getLogger("sluice.protocol")

# The client flags the Connector API as beta/preview on every call; Elastic's own service
# relies on it, and a warning per request would drown the CLI's output.
warnings.filterwarnings("ignore", category=GeneralAvailabilityWarning)


def _split(result: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """API results carry the document id as `id` next to the source fields."""
    doc = dict(result)
    doc_id = str(doc.pop("id", doc.pop("connector_id", "")))
    return doc_id, doc


class ApiConnectorStore(IndexConnectorStore):
    backend = "api"

    def __init__(
        self, client: AsyncElasticsearch, *, index_prefix: str = "", claim_endpoint: bool = True
    ) -> None:
        """`claim_endpoint=False` for 8.12-8.14 clusters, which lack `_claim`: claims are then
        direct conditional writes, as on the index backend."""
        super().__init__(client, index_prefix=index_prefix)
        self._api = client.connector
        #: for calls whose resending the store handles itself (`request_cancel`)
        self._api_once = client.options(max_retries=0).connector
        self._claim_endpoint = claim_endpoint

    # ================================================================ connectors

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
        body = {
            "index_name": index_name,
            "service_type": service_type,
            "name": name,
            "description": description,
            "language": language,
            "is_native": False,
        }
        body = {key: value for key, value in body.items() if value is not None}
        with translated("creating the connector record"):
            if connector_id:
                if await self.get_connector(connector_id) is not None:
                    raise InvalidRequest(f"a connector with id {connector_id!r} already exists")
                resp = await self._api.put(connector_id=connector_id, body=body)
            else:
                resp = await self._api.post(body=body)
        new_id = str(resp["id"])
        await self.update_pipeline(new_id, pipeline or documents.DEFAULT_PIPELINE)
        if features is not None:
            await self.update_features(new_id, documents.complete_features(features))
        created = await self.get_connector(new_id)
        if created is None:
            raise ConnectorNotFound(new_id)
        return created

    async def get_connector(
        self, connector_id: str, *, include_deleted: bool = False
    ) -> Connector | None:
        if include_deleted:
            return await super().get_connector(connector_id, include_deleted=True)
        with translated(f"reading connector {connector_id!r}"):
            try:
                resp = await self._api.get(connector_id=connector_id)
            except NotFoundError:
                return None
        doc_id, doc = _split(resp.body)
        return Connector(doc_id or connector_id, doc)

    async def list_connectors(
        self,
        *,
        include_deleted: bool = False,
        index_names: Sequence[str] | None = None,
        service_types: Sequence[str] | None = None,
    ) -> list[Connector]:
        if include_deleted:
            return await super().list_connectors(
                include_deleted=True, index_names=index_names, service_types=service_types
            )
        results: list[Connector] = []
        with translated("listing connectors"):
            while True:
                resp = await self._api.list(
                    from_=len(results),
                    size=PAGE,
                    index_name=list(index_names) if index_names else None,
                    service_type=list(service_types) if service_types else None,
                )
                page = resp["results"]
                results.extend(Connector(*_split(item)) for item in page)
                if len(page) < PAGE or len(results) >= int(resp.get("count", 0)):
                    return results

    async def _call(self, action: str, connector_id: str, method: str, **body: Any) -> None:
        with translated(f"{action} of connector {connector_id!r}"):
            try:
                await getattr(self._api, method)(connector_id=connector_id, body=body)
            except NotFoundError:
                raise ConnectorNotFound(connector_id) from None

    async def update_configuration(
        self,
        connector_id: str,
        *,
        schema: Mapping[str, Mapping[str, Any]] | None = None,
        values: Mapping[str, Any] | None = None,
        status: ConnectorStatus = ConnectorStatus.CONFIGURED,
    ) -> None:
        if schema is not None:
            full = merged_configuration({}, schema, values)
            await self._call(
                "updating the configuration",
                connector_id,
                "update_configuration",
                configuration=full,
            )
        else:
            if values is None:
                raise InvalidRequest("[configuration] and [values] cannot both be null.")
            await self._call(
                "updating configuration values",
                connector_id,
                "update_configuration",
                values=dict(values),
            )
        if status is not ConnectorStatus.CONFIGURED:
            await self.update_status(connector_id, status)

    async def update_status(self, connector_id: str, status: ConnectorStatus) -> None:
        await self._call(
            "changing the status",
            connector_id,
            "update_status",
            status=ConnectorStatus(status).value,
        )

    async def update_error(self, connector_id: str, error: str | None) -> None:
        await self._call("setting the error", connector_id, "update_error", error=error)

    async def update_scheduling(
        self, connector_id: str, scheduling: Mapping[str, Mapping[str, Any]]
    ) -> None:
        check_scheduling(scheduling)
        current = await self.get_connector(connector_id)
        if current is None:
            raise ConnectorNotFound(connector_id)
        await self._call(
            "updating the scheduling",
            connector_id,
            "update_scheduling",
            scheduling=merged_scheduling(current, scheduling),
        )

    async def update_filtering_draft(
        self,
        connector_id: str,
        *,
        rules: Sequence[Mapping[str, Any]] | None = None,
        advanced_snippet: Any = KEEP,
    ) -> None:
        now = iso_now()
        body: dict[str, Any] = {}
        if rules is not None:
            body["rules"] = documents.normalized_rules(rules, now)
        if advanced_snippet is not KEEP:
            body["advanced_snippet"] = documents.advanced_snippet(advanced_snippet, None, now)
        if not body:
            current = await self.get_connector(connector_id)
            if current is None:
                raise ConnectorNotFound(connector_id)
            body["rules"] = documents.normalized_rules(
                current.draft_filter().get("rules") or [], now
            )
        await self._call("updating the draft sync rules", connector_id, "update_filtering", **body)

    async def update_filtering_validation(
        self,
        connector_id: str,
        state: FilteringValidationState,
        errors: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        validation = {
            "state": FilteringValidationState(state).value,
            "errors": [dict(e) for e in errors],
        }
        await self._call(
            "recording the sync-rule validation",
            connector_id,
            "update_filtering_validation",
            validation=validation,
        )

    async def activate_filtering(self, connector_id: str) -> None:
        with translated(f"activating the sync rules of connector {connector_id!r}"):
            try:
                await self._api.update_active_filtering(connector_id=connector_id)
            except NotFoundError:
                raise ConnectorNotFound(connector_id) from None

    async def update_index_name(self, connector_id: str, index_name: str | None) -> None:
        await self._call(
            "changing the index name", connector_id, "update_index_name", index_name=index_name
        )

    async def update_api_key_id(
        self, connector_id: str, api_key_id: str | None, api_key_secret_id: str | None = None
    ) -> None:
        await self._call(
            "setting the API key id",
            connector_id,
            "update_api_key_id",
            api_key_id=api_key_id,
            api_key_secret_id=api_key_secret_id,
        )

    async def update_name(
        self, connector_id: str, *, name: str | None = None, description: str | None = None
    ) -> None:
        body = {
            k: v for k, v in {"name": name, "description": description}.items() if v is not None
        }
        if body:
            await self._call("renaming", connector_id, "update_name", **body)

    async def update_features(self, connector_id: str, features: Mapping[str, Any]) -> None:
        await self._call(
            "setting the features", connector_id, "update_features", features=dict(features)
        )

    async def update_pipeline(self, connector_id: str, pipeline: Mapping[str, Any]) -> None:
        await self._call(
            "setting the pipeline", connector_id, "update_pipeline", pipeline=dict(pipeline)
        )

    async def check_in(self, connector_id: str) -> None:
        with translated(f"checking in connector {connector_id!r}"):
            try:
                await self._api.check_in(connector_id=connector_id)
            except NotFoundError:
                raise ConnectorNotFound(connector_id) from None

    async def delete_connector(self, connector_id: str) -> None:
        with translated(f"deleting connector {connector_id!r}"):
            try:
                await self._api.delete(connector_id=connector_id)
            except NotFoundError:
                raise ConnectorNotFound(connector_id) from None

    # ================================================================ jobs

    async def create_job(
        self,
        connector_id: str,
        job_type: JobType = JobType.FULL,
        trigger_method: TriggerMethod = TriggerMethod.ON_DEMAND,
    ) -> str:
        with translated(f"creating a sync job for connector {connector_id!r}"):
            try:
                resp = await self._api.sync_job_post(
                    id=connector_id,
                    job_type=JobType(job_type).value,
                    trigger_method=TriggerMethod(trigger_method).value,
                )
            except NotFoundError:
                raise ConnectorNotFound(connector_id) from None
        return str(resp["id"])

    async def get_job(self, job_id: str) -> SyncJob | None:
        with translated(f"reading sync job {job_id!r}"):
            try:
                resp = await self._api.sync_job_get(connector_sync_job_id=job_id)
            except NotFoundError:
                return None
        doc_id, doc = _split(resp.body)
        return SyncJob(doc_id or job_id, doc)

    async def list_jobs(
        self,
        *,
        connector_id: str | None = None,
        status: JobStatus | None = None,
        job_types: Iterable[JobType] | None = None,
        size: int = 100,
    ) -> list[SyncJob]:
        types = [JobType(t).value for t in job_types] if job_types is not None else None
        results: list[SyncJob] = []
        with translated("listing sync jobs"):
            while len(results) < size:
                page = min(PAGE, size - len(results))
                resp = await self._api.sync_job_list(
                    connector_id=connector_id,
                    status=JobStatus(status).value if status else None,
                    job_type=",".join(types) if types else None,
                    from_=len(results),
                    size=page,
                )
                items = resp["results"]
                results.extend(SyncJob(*_split(item)) for item in items)
                if len(items) < page:
                    break
        return results

    async def _take_job(
        self, job: SyncJob, worker_hostname: str, sync_cursor: Any, worker: WorkerIdentity
    ) -> bool:
        """Under the connector lock: claim through `_claim` if the job is still as read,
        then record the instance in the job's `metadata` (`_claim` takes a host name only).

        `_claim` is an unconditional update that writes the same fields each time, so the
        transport's retry of one whose answer was lost just repeats it (no 409 to misread);
        the connector lock before it and the identity write after it are conditional
        writes, safe to retry through their write tokens."""
        if not self._claim_endpoint:
            return await super()._take_job(job, worker_hostname, sync_cursor, worker)
        fresh = await self._read(self.names.jobs, job.id, SyncJob)
        if (
            fresh is None
            or fresh.status not in CLAIMABLE_STATUSES
            or (fresh.seq_no, fresh.primary_term) != (job.seq_no, job.primary_term)
        ):
            return False
        with translated(f"claiming sync job {job.id!r}"):
            try:
                await self._api.sync_job_claim(
                    connector_sync_job_id=job.id,
                    worker_hostname=worker_hostname,
                    sync_cursor=sync_cursor,
                )
            except NotFoundError:
                return False

        def identified(taken: SyncJob) -> dict[str, Any]:
            doc = {**taken.doc, "metadata": with_worker(taken.metadata, worker)}
            if sync_cursor is not None and DOTTED_SYNC_CURSOR in doc:
                doc[DOTTED_SYNC_CURSOR] = sync_cursor  # left by Elastic's index-mode claim
            return doc

        try:
            await self._modify_job(job.id, identified)
        except ConnectorStoreError as exc:  # the job is ours all the same: run it
            logger.warning("job %s: claimed, but its worker identity not recorded: %s", job.id, exc)
        return True

    async def update_job_stats(
        self,
        job_id: str,
        stats: SyncStats | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        counters = stats.as_fields() if stats else {}
        required = ("deleted_document_count", "indexed_document_count", "indexed_document_volume")
        current: SyncJob | None = None
        if any(key not in counters for key in required) or metadata is not None:
            # the API wants all three counters; `metadata` replaces the stored one, which
            # holds the worker's identity and write tokens to keep
            current = await self.get_job(job_id)
            if current is None:
                raise JobNotFound(job_id)
            for key in required:
                counters.setdefault(key, int(current.doc.get(key) or 0))
        body: dict[str, Any] = dict(counters)
        if metadata is not None and current is not None:
            body["metadata"] = merged_metadata(current.doc.get("metadata"), metadata)
        with translated(f"updating stats of sync job {job_id!r}"):
            try:
                await self._api.sync_job_update_stats(connector_sync_job_id=job_id, body=body)
            except NotFoundError:
                raise JobNotFound(job_id) from None

    async def request_cancel(self, job_id: str) -> None:
        """`_cancel` refuses a job already canceling or canceled, so the transport's retry
        of a cancel whose answer was lost would fail on its own success. It is sent without
        the transport's retries; after an answer that is no answer (lost, or a gateway or
        throttling status) the job is read back: canceling or canceled means the cancel took
        effect, anything else sends it again."""
        for attempt in range(1, CANCEL_ATTEMPTS + 1):
            try:
                await self._api_once.sync_job_cancel(connector_sync_job_id=job_id)
                return
            except NotFoundError:
                raise JobNotFound(job_id) from None
            except (ApiError, TransportError) as exc:
                unanswered = not isinstance(exc, ApiError) or exc.status_code in RETRY_ON_STATUS
                if not unanswered or attempt == CANCEL_ATTEMPTS:
                    with translated(f"canceling sync job {job_id!r}"):
                        raise
            job = await self.get_job(job_id)
            if job is None:
                raise JobNotFound(job_id)
            if job.status in (JobStatus.CANCELING, JobStatus.CANCELED):
                return
            await asyncio.sleep(CANCEL_PAUSE * attempt)
