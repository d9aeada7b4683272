"""The documents Sluice writes, field for field as Kibana and Elasticsearch write them.

A connector created here is indistinguishable from one Kibana creates (same fields, same
defaults, `deleted: false` as the Connector API adds), and a sync job carries the same fields
and connector snapshot as one Elastic's service or `POST _connector/_sync_job` creates. The
golden records under tests/golden/records/ hold the reference shapes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from sluice.core.protocol.mappings import DEFAULT_PIPELINE_NAME
from sluice.core.protocol.models import (
    ACCESS_CONTROL_INDEX_PREFIX,
    Connector,
    ConnectorStatus,
    FilteringValidationState,
    JobStatus,
    JobType,
    TriggerMethod,
)

#: Kibana's default schedule: disabled, daily at midnight (Quartz cron, seconds first).
DEFAULT_INTERVAL = "0 0 0 * * ?"

DEFAULT_PIPELINE: dict[str, Any] = {
    "name": DEFAULT_PIPELINE_NAME,
    "extract_binary_content": True,
    "reduce_whitespace": True,
    "run_ml_inference": True,
}


#: Elastic's feature flags with the values its sources default to (`BaseDataSource`): the
#: full set Elastic's service writes into a connector, whatever the source names.
FEATURE_DEFAULTS: dict[str, Any] = {
    "document_level_security": {"enabled": False},
    "incremental_sync": {"enabled": False},
    "native_connector_api_keys": {"enabled": False},
    "sync_rules": {"advanced": {"enabled": False}, "basic": {"enabled": True}},
}


def complete_features(features: Mapping[str, Any]) -> dict[str, Any]:
    """`features` with every flag Elastic's service writes; the given values win. Elastic's
    service rewrites a connector's features whenever they differ from its full set."""
    return _merged(FEATURE_DEFAULTS, features)


def _merged(base: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(dict(base))
    for key, value in given.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def default_rule(timestamp: str, order: int = 0) -> dict[str, Any]:
    """The catch-all rule Kibana keeps last in every rule list: include everything."""
    return {
        "created_at": timestamp,
        "field": "_",
        "id": "DEFAULT",
        "order": order,
        "policy": "include",
        "rule": "regex",
        "updated_at": timestamp,
        "value": ".*",
    }


def default_filter(timestamp: str) -> dict[str, Any]:
    return {
        "advanced_snippet": {"created_at": timestamp, "updated_at": timestamp, "value": {}},
        "rules": [default_rule(timestamp)],
        "validation": {"errors": [], "state": FilteringValidationState.VALID.value},
    }


def default_filtering(timestamp: str) -> list[dict[str, Any]]:
    return [
        {
            "active": default_filter(timestamp),
            "domain": "DEFAULT",
            "draft": default_filter(timestamp),
        }
    ]


def default_scheduling() -> dict[str, dict[str, Any]]:
    return {
        job_type.value: {"enabled": False, "interval": DEFAULT_INTERVAL}
        for job_type in (JobType.ACCESS_CONTROL, JobType.FULL, JobType.INCREMENTAL)
    }


def new_connector_document(
    *,
    index_name: str | None,
    service_type: str | None,
    name: str,
    description: str | None,
    language: str | None,
    timestamp: str,
    pipeline: Mapping[str, Any] | None = None,
    features: Mapping[str, Any] | None = None,
    is_native: bool = False,
) -> dict[str, Any]:
    """A fresh connector record, as Kibana's `createConnectorDocument` builds it."""
    return {
        "api_key_id": None,
        "api_key_secret_id": None,
        "configuration": {},
        "custom_scheduling": {},
        "deleted": False,
        "description": description,
        "error": None,
        "features": complete_features(features) if features is not None else None,
        "filtering": default_filtering(timestamp),
        "index_name": index_name,
        "is_native": is_native,
        "language": language,
        "last_access_control_sync_error": None,
        "last_access_control_sync_scheduled_at": None,
        "last_access_control_sync_status": None,
        "last_deleted_document_count": None,
        "last_incremental_sync_scheduled_at": None,
        "last_indexed_document_count": None,
        "last_seen": None,
        "last_sync_error": None,
        "last_sync_scheduled_at": None,
        "last_sync_status": None,
        "last_synced": None,
        "name": name,
        "pipeline": dict(pipeline) if pipeline is not None else dict(DEFAULT_PIPELINE),
        "scheduling": default_scheduling(),
        "service_type": service_type,
        "status": ConnectorStatus.CREATED.value,
        "sync_now": False,
    }


def job_target_index(index_name: str, job_type: JobType) -> str:
    """Access-control syncs write the identities index, content syncs the content index."""
    if JobType(job_type) is JobType.ACCESS_CONTROL:
        return f"{ACCESS_CONTROL_INDEX_PREFIX}{index_name}"
    return index_name


def connector_snapshot(connector: Connector, job_type: JobType) -> dict[str, Any]:
    """What a job keeps of its connector, so later edits do not change a queued job. The
    connector's `sync_cursor` comes along when it has one (Elastic's service and the API add
    it at the claim, under the same key)."""
    snapshot = {
        "configuration": copy.deepcopy(connector.configuration),
        "filtering": copy.deepcopy(connector.active_filter()),
        "id": connector.id,
        "index_name": job_target_index(connector.index_name, job_type),
        "language": connector.language,
        "pipeline": copy.deepcopy(connector.pipeline or DEFAULT_PIPELINE),
        "service_type": connector.service_type,
    }
    if connector.sync_cursor is not None:
        snapshot["sync_cursor"] = copy.deepcopy(connector.sync_cursor)
    return snapshot


def new_job_document(
    connector: Connector, job_type: JobType, trigger_method: TriggerMethod, timestamp: str
) -> dict[str, Any]:
    """A pending sync job with the fields Elastic's service writes when it queues one, plus
    the two the Connector API adds (`metadata`, `total_document_count`). The claim and the
    end of the job add the rest (`started_at`, `worker_hostname`, `completed_at`, ...), as
    Elastic's do; none is written as null ahead of time."""
    return {
        "connector": connector_snapshot(connector, job_type),
        "created_at": timestamp,
        "deleted_document_count": 0,
        "indexed_document_count": 0,
        "indexed_document_volume": 0,
        "job_type": JobType(job_type).value,
        "last_seen": timestamp,
        "metadata": {},
        "status": JobStatus.PENDING.value,
        "total_document_count": 0,
        "trigger_method": TriggerMethod(trigger_method).value,
    }


def normalized_rules(rules: Sequence[Mapping[str, Any]], timestamp: str) -> list[dict[str, Any]]:
    """Rules sorted by `order`, timestamps filled in, and Kibana's catch-all DEFAULT rule
    last (Elasticsearch refuses a rule list without it)."""
    result: list[dict[str, Any]] = []
    for rule in rules:
        if rule.get("id") == "DEFAULT":
            continue
        entry = dict(rule)
        entry.setdefault("created_at", timestamp)
        entry["updated_at"] = entry.get("updated_at") or timestamp
        result.append(entry)
    result.sort(key=lambda rule: rule.get("order", 0))
    last_order = max((int(rule.get("order", 0)) for rule in result), default=-1)
    result.append(default_rule(timestamp, order=last_order + 1))
    return result


def advanced_snippet(value: Any, previous: Mapping[str, Any] | None, timestamp: str) -> dict:
    return {
        "created_at": (previous or {}).get("created_at") or timestamp,
        "updated_at": timestamp,
        "value": value,
    }
