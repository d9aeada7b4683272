"""Elastic's connector protocol: connector records and sync jobs in Elasticsearch.

`open_store(client)` returns a `ConnectorStore` (Connector API where the cluster has it,
direct index access otherwise). The module functions build the service loop on top of it:
`pending_jobs`, `cleanup_stale_jobs` and `create_due_scheduled_jobs`; `next_run` and
`validate_cron` read Quartz cron schedules.
"""

from typing import TYPE_CHECKING

from sluice.core.lazy import lazy_exports

if TYPE_CHECKING:  # the names below load on first use (see core/lazy.py)
    from sluice.core.protocol.api_store import ApiConnectorStore
    from sluice.core.protocol.documents import DEFAULT_INTERVAL, DEFAULT_PIPELINE
    from sluice.core.protocol.errors import (
        ConnectorNotFound,
        ConnectorStoreError,
        InvalidRequest,
        InvalidTransition,
        JobNotFound,
        NotFound,
        StoreUnavailable,
        TooManyConflicts,
    )
    from sluice.core.protocol.identity import WorkerIdentity
    from sluice.core.protocol.index_store import IndexConnectorStore
    from sluice.core.protocol.jobs import cleanup_stale_jobs, pending_jobs
    from sluice.core.protocol.mappings import CONNECTORS_ALIAS, JOBS_ALIAS, IndexNames
    from sluice.core.protocol.models import (
        ACCESS_CONTROL_INDEX_PREFIX,
        ACTIVE_STATUSES,
        CLAIMABLE_STATUSES,
        TERMINAL_STATUSES,
        Connector,
        ConnectorStatus,
        FilteringValidationState,
        JobStatus,
        JobType,
        SyncJob,
        SyncStats,
        TriggerMethod,
    )
    from sluice.core.protocol.open import connector_api_available, open_store
    from sluice.core.protocol.resume import (
        discard_job,
        make_resumable,
        recover_dead_jobs,
        resumable_job,
    )
    from sluice.core.protocol.scheduling import (
        CronError,
        create_due_scheduled_jobs,
        latest_run,
        next_run,
        validate_cron,
    )
    from sluice.core.protocol.store import KEEP, ConnectorStore

__getattr__ = lazy_exports(
    __name__,
    {
        "api_store": ("ApiConnectorStore",),
        "documents": (
            "DEFAULT_INTERVAL",
            "DEFAULT_PIPELINE",
        ),
        "errors": (
            "ConnectorNotFound",
            "ConnectorStoreError",
            "InvalidRequest",
            "InvalidTransition",
            "JobNotFound",
            "NotFound",
            "StoreUnavailable",
            "TooManyConflicts",
        ),
        "identity": ("WorkerIdentity",),
        "index_store": ("IndexConnectorStore",),
        "jobs": (
            "cleanup_stale_jobs",
            "pending_jobs",
        ),
        "mappings": (
            "CONNECTORS_ALIAS",
            "JOBS_ALIAS",
            "IndexNames",
        ),
        "models": (
            "ACCESS_CONTROL_INDEX_PREFIX",
            "ACTIVE_STATUSES",
            "CLAIMABLE_STATUSES",
            "TERMINAL_STATUSES",
            "Connector",
            "ConnectorStatus",
            "FilteringValidationState",
            "JobStatus",
            "JobType",
            "SyncJob",
            "SyncStats",
            "TriggerMethod",
        ),
        "open": (
            "connector_api_available",
            "open_store",
        ),
        "resume": (
            "discard_job",
            "make_resumable",
            "recover_dead_jobs",
            "resumable_job",
        ),
        "scheduling": (
            "CronError",
            "create_due_scheduled_jobs",
            "latest_run",
            "next_run",
            "validate_cron",
        ),
        "store": (
            "KEEP",
            "ConnectorStore",
        ),
    },
)

__all__ = [
    "ACCESS_CONTROL_INDEX_PREFIX",
    "ACTIVE_STATUSES",
    "CLAIMABLE_STATUSES",
    "CONNECTORS_ALIAS",
    "DEFAULT_INTERVAL",
    "DEFAULT_PIPELINE",
    "JOBS_ALIAS",
    "KEEP",
    "TERMINAL_STATUSES",
    "ApiConnectorStore",
    "Connector",
    "ConnectorNotFound",
    "ConnectorStatus",
    "ConnectorStore",
    "ConnectorStoreError",
    "CronError",
    "FilteringValidationState",
    "IndexConnectorStore",
    "IndexNames",
    "InvalidRequest",
    "InvalidTransition",
    "JobNotFound",
    "JobStatus",
    "JobType",
    "NotFound",
    "StoreUnavailable",
    "SyncJob",
    "SyncStats",
    "TooManyConflicts",
    "TriggerMethod",
    "WorkerIdentity",
    "cleanup_stale_jobs",
    "connector_api_available",
    "create_due_scheduled_jobs",
    "discard_job",
    "latest_run",
    "make_resumable",
    "next_run",
    "open_store",
    "pending_jobs",
    "recover_dead_jobs",
    "resumable_job",
    "validate_cron",
]
