"""Names, settings and mappings of the two connector indices.

The mappings follow Elasticsearch's built-in connector index templates (`dynamic: false`, the
same field types), including the fields newer releases added (`api_key_secret_id`, `deleted`,
the `document_level_security` / `native_connector_api_keys` features). Sluice creates the
indices only where they are missing, i.e. on clusters without the Connector API's own
system-index management.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONNECTORS_ALIAS = ".elastic-connectors"
JOBS_ALIAS = ".elastic-connectors-sync-jobs"
CONCRETE_SUFFIX = "-v1"
DEFAULT_PIPELINE_NAME = "search-default-ingestion"


@dataclass(frozen=True)
class IndexNames:
    """Where the store reads and writes. `prefix` exists for tests only: it gives each test
    run its own pair of indices; production code always uses Elastic's names."""

    prefix: str = ""

    @property
    def connectors(self) -> str:
        return f"{self.prefix}{CONNECTORS_ALIAS}"

    @property
    def jobs(self) -> str:
        return f"{self.prefix}{JOBS_ALIAS}"

    @property
    def connectors_concrete(self) -> str:
        return self.connectors + CONCRETE_SUFFIX

    @property
    def jobs_concrete(self) -> str:
        return self.jobs + CONCRETE_SUFFIX


SETTINGS: dict[str, Any] = {"hidden": True, "number_of_shards": "1", "auto_expand_replicas": "0-1"}

_KW = {"type": "keyword"}
_DATE = {"type": "date"}
_BOOL = {"type": "boolean"}
_OBJ = {"type": "object"}
_ENABLED = {"properties": {"enabled": _BOOL}}


def _rules_properties() -> dict[str, Any]:
    return {
        "created_at": _DATE,
        "field": _KW,
        "id": _KW,
        "order": {"type": "short"},
        "policy": _KW,
        "rule": _KW,
        "updated_at": _DATE,
        "value": _KW,
    }


def _advanced_snippet() -> dict[str, Any]:
    return {"properties": {"created_at": _DATE, "updated_at": _DATE, "value": _OBJ}}


def _filter_properties() -> dict[str, Any]:
    return {
        "properties": {
            "advanced_snippet": _advanced_snippet(),
            "rules": {"properties": _rules_properties()},
            "validation": {
                "properties": {
                    "errors": {"properties": {"ids": _KW, "messages": {"type": "text"}}},
                    "state": _KW,
                }
            },
        }
    }


def _pipeline() -> dict[str, Any]:
    return {
        "properties": {
            "extract_binary_content": _BOOL,
            "name": _KW,
            "reduce_whitespace": _BOOL,
            "run_ml_inference": _BOOL,
        }
    }


def _schedule() -> dict[str, Any]:
    return {"properties": {"enabled": _BOOL, "interval": {"type": "text"}}}


CONNECTORS_MAPPINGS: dict[str, Any] = {
    "dynamic": "false",
    "_meta": {
        "pipeline": {
            "default_name": DEFAULT_PIPELINE_NAME,
            "default_extract_binary_content": True,
            "default_run_ml_inference": True,
            "default_reduce_whitespace": True,
        },
        "version": 1,
    },
    "properties": {
        "api_key_id": _KW,
        "api_key_secret_id": _KW,
        "configuration": _OBJ,
        "custom_scheduling": _OBJ,
        "deleted": _BOOL,
        "description": {"type": "text"},
        "error": _KW,
        "features": {
            "properties": {
                "document_level_security": _ENABLED,
                "filtering_advanced_config": _BOOL,
                "filtering_rules": _BOOL,
                "incremental_sync": _ENABLED,
                "native_connector_api_keys": _ENABLED,
                "sync_rules": {"properties": {"advanced": _ENABLED, "basic": _ENABLED}},
            }
        },
        "filtering": {
            "properties": {
                "active": _filter_properties(),
                "domain": _KW,
                "draft": _filter_properties(),
            }
        },
        "index_name": _KW,
        "is_native": _BOOL,
        "language": _KW,
        "last_access_control_sync_error": _KW,
        "last_access_control_sync_scheduled_at": _DATE,
        "last_access_control_sync_status": _KW,
        "last_deleted_document_count": {"type": "long"},
        "last_incremental_sync_scheduled_at": _DATE,
        "last_indexed_document_count": {"type": "long"},
        "last_seen": _DATE,
        "last_sync_error": _KW,
        "last_sync_scheduled_at": _DATE,
        "last_sync_status": _KW,
        "last_synced": _DATE,
        "name": _KW,
        "pipeline": _pipeline(),
        "scheduling": {
            "properties": {
                "access_control": _schedule(),
                "full": _schedule(),
                "incremental": _schedule(),
            }
        },
        "service_type": _KW,
        "status": _KW,
        "sync_cursor": _OBJ,
        "sync_now": _BOOL,
    },
}

JOBS_MAPPINGS: dict[str, Any] = {
    "dynamic": "false",
    "_meta": {"version": 1},
    "properties": {
        "cancelation_requested_at": _DATE,
        "canceled_at": _DATE,
        "completed_at": _DATE,
        "connector": {
            "properties": {
                "configuration": _OBJ,
                "filtering": {
                    "properties": {
                        "advanced_snippet": _advanced_snippet(),
                        "domain": _KW,
                        "rules": {"properties": _rules_properties()},
                        "warnings": {"properties": {"ids": _KW, "messages": {"type": "text"}}},
                    }
                },
                "id": _KW,
                "index_name": _KW,
                "language": _KW,
                "pipeline": _pipeline(),
                "service_type": _KW,
                "sync_cursor": _OBJ,
            }
        },
        "created_at": _DATE,
        "deleted_document_count": {"type": "integer"},
        "error": _KW,
        "indexed_document_count": {"type": "integer"},
        "indexed_document_volume": {"type": "integer"},
        "job_type": _KW,
        "last_seen": _DATE,
        "metadata": _OBJ,
        "started_at": _DATE,
        "status": _KW,
        "total_document_count": {"type": "integer"},
        "trigger_method": _KW,
        "worker_hostname": _KW,
    },
}
