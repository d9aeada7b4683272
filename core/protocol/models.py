"""Statuses and thin typed views over connector and sync-job documents.

The documents stay plain dicts (`.doc`), exactly as stored, so fields Sluice does not know
(written by Kibana or a newer Elastic release) survive a read-modify-write. The wrappers add
typed properties for the fields everyone reads, and carry `seq_no`/`primary_term` when read
straight from the index, which the conditional writes need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from sluice.core.protocol.identity import WorkerIdentity, worker_of
from sluice.core.protocol.timeutil import parse_time


class ConnectorStatus(StrEnum):
    CREATED = "created"
    NEEDS_CONFIGURATION = "needs_configuration"
    CONFIGURED = "configured"
    CONNECTED = "connected"
    ERROR = "error"


class JobStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    CANCELING = "canceling"
    CANCELED = "canceled"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    ERROR = "error"


class JobType(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"
    ACCESS_CONTROL = "access_control"


class TriggerMethod(StrEnum):
    ON_DEMAND = "on_demand"
    SCHEDULED = "scheduled"


class FilteringValidationState(StrEnum):
    EDITED = "edited"
    VALID = "valid"
    INVALID = "invalid"


#: Jobs a service may pick up (`suspended` = interrupted by a shutdown, resumed like pending).
CLAIMABLE_STATUSES = frozenset({JobStatus.PENDING, JobStatus.SUSPENDED})
#: Jobs some instance is working on; they must keep sending heartbeats.
ACTIVE_STATUSES = frozenset({JobStatus.IN_PROGRESS, JobStatus.CANCELING})
TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.CANCELED, JobStatus.ERROR})

#: Prefix of the index that access-control syncs write to (document-level security).
ACCESS_CONTROL_INDEX_PREFIX = ".search-acl-filter-"
#: The literal (dotted) key under which Elastic's service records the cursor of a job it
#: claimed through the index; see `SyncJob.sync_cursor`.
DOTTED_SYNC_CURSOR = "connector.sync_cursor"


def _enum(kind: type[StrEnum], value: Any) -> Any:
    try:
        return kind(value) if value is not None else None
    except ValueError:
        return None


def _dig(doc: Mapping[str, Any], *path: str) -> Any:
    current: Any = doc
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


class _Document:
    """Common part of the two wrappers: id, raw source and the optimistic-locking pair."""

    def __init__(
        self,
        id: str,
        doc: Mapping[str, Any],
        *,
        seq_no: int | None = None,
        primary_term: int | None = None,
    ) -> None:
        self.id = id
        self.doc: dict[str, Any] = dict(doc)
        self.seq_no = seq_no
        self.primary_term = primary_term

    @property
    def versioned(self) -> bool:
        """True when read from the index, so it can back a conditional write."""
        return self.seq_no is not None and self.primary_term is not None

    def get(self, key: str, default: Any = None) -> Any:
        return self.doc.get(key, default)


class Connector(_Document):
    """A document of `.elastic-connectors`."""

    def __repr__(self) -> str:  # never the configuration: it holds secrets
        return (
            f"Connector(id={self.id!r}, name={self.name!r}, service_type={self.service_type!r}, "
            f"status={self.doc.get('status')!r})"
        )

    name = property(lambda self: self.doc.get("name") or "")
    description = property(lambda self: self.doc.get("description"))
    service_type = property(lambda self: self.doc.get("service_type"))
    index_name = property(lambda self: self.doc.get("index_name"))
    language = property(lambda self: self.doc.get("language"))
    error = property(lambda self: self.doc.get("error"))
    api_key_id = property(lambda self: self.doc.get("api_key_id"))
    api_key_secret_id = property(lambda self: self.doc.get("api_key_secret_id"))
    sync_cursor = property(lambda self: self.doc.get("sync_cursor"))
    last_sync_error = property(lambda self: self.doc.get("last_sync_error"))
    last_access_control_sync_error = property(
        lambda self: self.doc.get("last_access_control_sync_error")
    )
    last_indexed_document_count = property(lambda self: self.doc.get("last_indexed_document_count"))
    last_deleted_document_count = property(lambda self: self.doc.get("last_deleted_document_count"))

    @property
    def status(self) -> ConnectorStatus | None:
        return _enum(ConnectorStatus, self.doc.get("status"))

    @property
    def is_native(self) -> bool:
        return bool(self.doc.get("is_native", False))

    @property
    def deleted(self) -> bool:
        return self.doc.get("deleted") is True

    @property
    def configuration(self) -> dict[str, dict[str, Any]]:
        return dict(self.doc.get("configuration") or {})

    def configuration_values(self) -> dict[str, Any]:
        """`key -> value` of the stored configuration."""
        return {
            key: entry.get("value") if isinstance(entry, Mapping) else None
            for key, entry in self.configuration.items()
        }

    @property
    def features(self) -> dict[str, Any]:
        return dict(self.doc.get("features") or {})

    @property
    def incremental_sync_enabled(self) -> bool:
        return _dig(self.features, "incremental_sync", "enabled") is True

    @property
    def document_level_security_enabled(self) -> bool:
        return _dig(self.features, "document_level_security", "enabled") is True

    @property
    def filtering(self) -> list[dict[str, Any]]:
        return list(self.doc.get("filtering") or [])

    def _default_domain_filter(self) -> dict[str, Any]:
        for entry in self.filtering:
            if isinstance(entry, Mapping) and entry.get("domain", "DEFAULT") == "DEFAULT":
                return dict(entry)
        return {}

    def active_filter(self) -> dict[str, Any]:
        """The active rules of the DEFAULT domain: `{rules, advanced_snippet, validation}`."""
        return dict(self._default_domain_filter().get("active") or {})

    def draft_filter(self) -> dict[str, Any]:
        return dict(self._default_domain_filter().get("draft") or {})

    @property
    def scheduling(self) -> dict[str, dict[str, Any]]:
        return dict(self.doc.get("scheduling") or {})

    def schedule(self, job_type: JobType) -> dict[str, Any]:
        """`{enabled, interval}` of one job type (empty when unset)."""
        return dict(self.scheduling.get(JobType(job_type).value) or {})

    @property
    def pipeline(self) -> dict[str, Any] | None:
        value = self.doc.get("pipeline")
        return dict(value) if isinstance(value, Mapping) else None

    @property
    def last_seen(self) -> datetime | None:
        return parse_time(self.doc.get("last_seen"))

    @property
    def last_synced(self) -> datetime | None:
        return parse_time(self.doc.get("last_synced"))

    @property
    def last_sync_status(self) -> JobStatus | None:
        return _enum(JobStatus, self.doc.get("last_sync_status"))

    @property
    def last_access_control_sync_status(self) -> JobStatus | None:
        return _enum(JobStatus, self.doc.get("last_access_control_sync_status"))

    def sync_status(self, job_type: JobType) -> JobStatus | None:
        """The bookkeeping status of the family `job_type` belongs to (content syncs share
        `last_sync_status`; access-control syncs have their own)."""
        if JobType(job_type) is JobType.ACCESS_CONTROL:
            return self.last_access_control_sync_status
        return self.last_sync_status

    def scheduled_at(self, job_type: JobType) -> datetime | None:
        return parse_time(self.doc.get(scheduled_at_field(job_type)))


def scheduled_at_field(job_type: JobType) -> str:
    """The connector field recording when a job of `job_type` was last scheduled."""
    return {
        JobType.FULL: "last_sync_scheduled_at",
        JobType.INCREMENTAL: "last_incremental_sync_scheduled_at",
        JobType.ACCESS_CONTROL: "last_access_control_sync_scheduled_at",
    }[JobType(job_type)]


def sync_status_fields(job_type: JobType) -> tuple[str, str]:
    """(`status field`, `error field`) of the connector bookkeeping for `job_type`."""
    if JobType(job_type) is JobType.ACCESS_CONTROL:
        return "last_access_control_sync_status", "last_access_control_sync_error"
    return "last_sync_status", "last_sync_error"


class SyncJob(_Document):
    """A document of `.elastic-connectors-sync-jobs`."""

    def __repr__(self) -> str:
        return (
            f"SyncJob(id={self.id!r}, connector_id={self.connector_id!r}, "
            f"job_type={self.doc.get('job_type')!r}, status={self.doc.get('status')!r})"
        )

    @property
    def connector(self) -> dict[str, Any]:
        """The connector snapshot taken when the job was created (the job runs from it)."""
        return dict(self.doc.get("connector") or {})

    connector_id = property(lambda self: _dig(self.doc, "connector", "id"))
    index_name = property(lambda self: _dig(self.doc, "connector", "index_name"))
    service_type = property(lambda self: _dig(self.doc, "connector", "service_type"))
    language = property(lambda self: _dig(self.doc, "connector", "language"))
    pipeline = property(lambda self: _dig(self.doc, "connector", "pipeline"))

    @property
    def sync_cursor(self) -> Any:
        """The cursor the job runs from. Elastic's service, claiming a job through the index
        (no Connector API), writes it as the literal top-level key `"connector.sync_cursor"`
        (a partial update with a dotted key stays dotted in `_source`); that claim-time value
        is newer than the snapshot's `connector.sync_cursor`, so it wins when set."""
        dotted = self.doc.get(DOTTED_SYNC_CURSOR)
        if dotted is not None:
            return dotted
        return _dig(self.doc, "connector", "sync_cursor")

    error = property(lambda self: self.doc.get("error"))
    worker_hostname = property(lambda self: self.doc.get("worker_hostname"))

    @property
    def worker(self) -> WorkerIdentity | None:
        """The Sluice instance that claimed the job (`metadata.sluice.worker`); None for
        jobs not claimed by Sluice, and when a worker on another host (Elastic's service,
        which leaves `metadata` alone) claimed it since."""
        worker = worker_of(self.doc.get("metadata"))
        if worker is None or worker.host != self.worker_hostname:
            return None
        return worker

    @property
    def worker_label(self) -> str | None:
        """Who runs (or ran) the job, short: host and process id for a Sluice instance,
        else Elastic's `worker_hostname`."""
        worker = self.worker
        return worker.label if worker is not None else self.worker_hostname

    @property
    def configuration(self) -> dict[str, dict[str, Any]]:
        return dict(_dig(self.doc, "connector", "configuration") or {})

    @property
    def filtering(self) -> dict[str, Any]:
        """The active filter `{rules, advanced_snippet, validation}` at creation time."""
        value = _dig(self.doc, "connector", "filtering")
        if isinstance(value, list):  # very old documents stored the whole list
            value = value[0].get("active", value[0]) if value else {}
        return dict(value or {})

    @property
    def job_type(self) -> JobType | None:
        return _enum(JobType, self.doc.get("job_type"))

    @property
    def trigger_method(self) -> TriggerMethod | None:
        return _enum(TriggerMethod, self.doc.get("trigger_method"))

    @property
    def status(self) -> JobStatus | None:
        return _enum(JobStatus, self.doc.get("status"))

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_content_sync(self) -> bool:
        return self.job_type in (JobType.FULL, JobType.INCREMENTAL)

    created_at = property(lambda self: parse_time(self.doc.get("created_at")))
    started_at = property(lambda self: parse_time(self.doc.get("started_at")))
    last_seen = property(lambda self: parse_time(self.doc.get("last_seen")))
    completed_at = property(lambda self: parse_time(self.doc.get("completed_at")))
    canceled_at = property(lambda self: parse_time(self.doc.get("canceled_at")))
    cancelation_requested_at = property(
        lambda self: parse_time(self.doc.get("cancelation_requested_at"))
    )
    indexed_document_count = property(lambda self: self.doc.get("indexed_document_count") or 0)
    indexed_document_volume = property(lambda self: self.doc.get("indexed_document_volume") or 0)
    deleted_document_count = property(lambda self: self.doc.get("deleted_document_count") or 0)
    total_document_count = property(lambda self: self.doc.get("total_document_count") or 0)
    metadata = property(lambda self: dict(self.doc.get("metadata") or {}))


@dataclass(frozen=True)
class SyncStats:
    """Counters of a running job. None = leave the stored value alone.
    `indexed_document_volume` is in MiB (an integer, as the mapping says)."""

    indexed_document_count: int | None = None
    indexed_document_volume: int | None = None
    deleted_document_count: int | None = None
    total_document_count: int | None = None

    def as_fields(self) -> dict[str, int]:
        return {
            f.name: round(getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) is not None
        }
