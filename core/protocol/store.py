"""The connector-store interface: every read and write of connector records and sync jobs.

Two backends implement it (`open_store` picks one): Elasticsearch's Connector API, and
direct access to the `.elastic-connectors*` indices for clusters without the API. Both write
and read the same documented fields, so records are interchangeable between them, Kibana and
Elastic's own connector service.

Multi-instance safety (several `sluice run` on several machines) rests on two conditional
writes with `if_seq_no`/`if_primary_term`: the connector's `last_sync_status: in_progress`
(a lock per connector and job family) and the job's own claim. `claim_job` returns False to
every instance but one. Both are safe to retry after a lost answer (write tokens,
`core.protocol.write_tokens`), and the claim records which instance runs the job
(`metadata.sluice.worker`, `core.protocol.identity`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sluice.core.protocol.identity import WorkerIdentity
from sluice.core.protocol.models import (
    Connector,
    ConnectorStatus,
    FilteringValidationState,
    JobStatus,
    JobType,
    SyncJob,
    SyncStats,
    TriggerMethod,
)


class _Keep:
    """Sentinel: leave the stored value as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


class ConnectorStore(ABC):
    """Connector records and sync jobs in Elasticsearch."""

    #: "api" or "index": which backend this is (shown by `sluice check` and the TUI).
    backend: str = ""

    # ------------------------------------------------------------------ connectors

    @abstractmethod
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
        """Create a self-managed connector record exactly as Kibana does (status `created`,
        default filtering, scheduling and pipeline). Raises InvalidRequest when another
        connector already uses `index_name` or `connector_id` exists."""

    @abstractmethod
    async def get_connector(
        self, connector_id: str, *, include_deleted: bool = False
    ) -> Connector | None:
        """The connector, or None when missing (or soft-deleted, unless include_deleted)."""

    @abstractmethod
    async def list_connectors(
        self,
        *,
        include_deleted: bool = False,
        index_names: Sequence[str] | None = None,
        service_types: Sequence[str] | None = None,
    ) -> list[Connector]:
        """All connectors, sorted by index name."""

    @abstractmethod
    async def update_configuration(
        self,
        connector_id: str,
        *,
        schema: Mapping[str, Mapping[str, Any]] | None = None,
        values: Mapping[str, Any] | None = None,
        status: ConnectorStatus = ConnectorStatus.CONFIGURED,
    ) -> None:
        """Replace the whole configuration (`schema`, entries with their values; `values`
        then overlay it) or update only `values` of existing keys (an unknown key is an
        InvalidRequest naming it). Sets `status` (`configured` by default, as the API does;
        pass `needs_configuration` when required values are still missing)."""

    @abstractmethod
    async def update_status(self, connector_id: str, status: ConnectorStatus) -> None:
        """Change the status; the protocol's state machine applies (InvalidTransition)."""

    @abstractmethod
    async def update_error(self, connector_id: str, error: str | None) -> None:
        """Set the error text (status `error`), or clear it with None (status `connected`)."""

    @abstractmethod
    async def update_scheduling(
        self, connector_id: str, scheduling: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Set `{full|incremental|access_control: {enabled, interval}}`; job types left out
        keep their current schedule. Intervals are Quartz cron strings, validated first."""

    @abstractmethod
    async def update_filtering_draft(
        self,
        connector_id: str,
        *,
        rules: Sequence[Mapping[str, Any]] | None = None,
        advanced_snippet: Any = KEEP,
    ) -> None:
        """Write draft sync rules (validation state `edited`), for the service to validate."""

    @abstractmethod
    async def update_filtering_validation(
        self,
        connector_id: str,
        state: FilteringValidationState,
        errors: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Record the service's verdict on the draft rules (`errors`: `{ids, messages}`)."""

    @abstractmethod
    async def activate_filtering(self, connector_id: str) -> None:
        """Make the draft the active rules; the draft must be `valid` (InvalidRequest)."""

    @abstractmethod
    async def update_index_name(self, connector_id: str, index_name: str | None) -> None: ...

    @abstractmethod
    async def update_api_key_id(
        self, connector_id: str, api_key_id: str | None, api_key_secret_id: str | None = None
    ) -> None: ...

    @abstractmethod
    async def update_name(
        self, connector_id: str, *, name: str | None = None, description: str | None = None
    ) -> None: ...

    @abstractmethod
    async def update_features(self, connector_id: str, features: Mapping[str, Any]) -> None: ...

    @abstractmethod
    async def update_pipeline(self, connector_id: str, pipeline: Mapping[str, Any]) -> None: ...

    @abstractmethod
    async def check_in(self, connector_id: str) -> None:
        """Service heartbeat: `last_seen = now` (Elastic's service: at least every 5 min)."""

    @abstractmethod
    async def delete_connector(self, connector_id: str) -> None:
        """Soft delete (`deleted: true`); its jobs are failed by `cleanup_stale_jobs`."""

    # ------------------------------------------------------------------ sync jobs

    @abstractmethod
    async def create_job(
        self,
        connector_id: str,
        job_type: JobType = JobType.FULL,
        trigger_method: TriggerMethod = TriggerMethod.ON_DEMAND,
    ) -> str:
        """Queue a `pending` job with a snapshot of the connector; returns its id."""

    @abstractmethod
    async def get_job(self, job_id: str) -> SyncJob | None: ...

    @abstractmethod
    async def list_jobs(
        self,
        *,
        connector_id: str | None = None,
        status: JobStatus | None = None,
        job_types: Iterable[JobType] | None = None,
        size: int = 100,
    ) -> list[SyncJob]:
        """Jobs, newest first (`size` at most)."""

    @abstractmethod
    async def claim_job(
        self,
        job_id: str,
        worker_hostname: str,
        sync_cursor: Any = None,
        *,
        worker: WorkerIdentity | None = None,
    ) -> bool:
        """Take a pending or suspended job for this instance. False when another instance
        won, the connector already runs a job of the same family, the connector is gone, or
        the job is no longer claimable. On True the job is `in_progress` with
        `worker_hostname` and `worker` (default: this process) recorded, and the connector's
        `last_sync_status` (or `last_access_control_sync_status`) is `in_progress`."""

    @abstractmethod
    async def update_job_stats(
        self,
        job_id: str,
        stats: SyncStats | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Heartbeat of a running job: `last_seen = now` plus the counters given. Send at
        least every 10 s; a job silent for `stale_after` is failed by cleanup."""

    @abstractmethod
    async def request_cancel(self, job_id: str) -> None:
        """A user's cancel: pending/suspended jobs become `canceled` at once, running ones
        `canceling` (the instance running it notices via `get_job` and stops)."""

    @abstractmethod
    async def complete_job(
        self,
        job_id: str,
        stats: SyncStats | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        sync_cursor: Any = KEEP,
    ) -> SyncJob:
        """Finish a running job successfully and do the connector's bookkeeping
        (`last_synced`, `last_sync_status`, counts, `sync_cursor` when given). A job whose
        cancel was requested meanwhile ends `canceled` instead. Raises InvalidTransition
        when the job already ended (e.g. cleanup failed it as stale)."""

    @abstractmethod
    async def fail_job(
        self,
        job_id: str,
        error: str,
        stats: SyncStats | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> SyncJob:
        """End a job with `error` (connector status `error`, `last_sync_error` set)."""

    @abstractmethod
    async def cancel_job(
        self,
        job_id: str,
        stats: SyncStats | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> SyncJob:
        """End a job as `canceled` (the runner's answer to a `canceling` job)."""

    @abstractmethod
    async def suspend_job(
        self,
        job_id: str,
        stats: SyncStats | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> SyncJob:
        """Interrupted by a shutdown: `suspended`, to be claimed again like `pending`."""

    # ------------------------------------------------------ multi-instance internals
    # Used by the module-level helpers (pending_jobs, cleanup_stale_jobs,
    # create_due_scheduled_jobs); always direct reads/writes with optimistic locking.

    @abstractmethod
    async def read_connector_versioned(self, connector_id: str) -> Connector | None:
        """The connector straight from the index, with `seq_no`/`primary_term`."""

    @abstractmethod
    async def mark_scheduled(
        self, connector: Connector, job_type: JobType, at: datetime
    ) -> Connector | None:
        """Write `last_*_scheduled_at = at` only if `connector` is unchanged since read;
        the updated connector, or None when another instance wrote first."""

    @abstractmethod
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
        """Jobs matching all the given filters (used for queues and cleanup)."""

    @abstractmethod
    async def fail_stale_job(self, job: SyncJob, error: str) -> bool:
        """Fail `job` if it is unchanged since read (no heartbeat arrived meanwhile), and
        release its connector; False when it changed."""

    @abstractmethod
    async def release_orphan_lock(self, connector: Connector, job_type: JobType) -> bool:
        """Reset a connector's `in_progress` bookkeeping that no running job backs, from
        the latest finished job of that family; conditional on `connector` unchanged."""

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release here
        """Release resources (the Elasticsearch client belongs to the caller)."""
