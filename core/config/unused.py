"""The documented keys of config.yml that Sluice accepts (Elastic's service reads them) but does
not act on, and the warning that says so when a file sets one.

Every key of `core.config.schema` is either honoured — read through `core.config.typed` or the
Elasticsearch client's settings — or listed here, so a setting never silently does nothing.
A test keeps the two lists complementary. A key set to Elastic's default stays quiet (Elastic's
config.yml.example writes every key so): only a value someone chose, and Sluice would ignore,
is worth a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sluice.core.config.defaults import DEFAULTS, EXTRACTION_SERVICE_DEFAULTS
from sluice.core.config.problems import Problem

#: Dotted key -> what Sluice does instead (a whole section when the key names one).
UNUSED_BY_SLUICE: dict[str, str] = {
    "elasticsearch.ssl": "Sluice applies verify_certs and ca_certs to every https:// host",
    "elasticsearch.headers": "Sluice sends only its authorization and user-agent headers",
    "elasticsearch.log_level": "Sluice logs at service.log_level (or `sluice run --log-level`)",
    "elasticsearch.bulk.queue_refresh_interval": "Sluice's queue wakes its reader at once",
    "elasticsearch.bulk.queue_refresh_timeout": "Sluice's queue waits without a time limit",
    "elasticsearch.bulk.display_every": "progress is shown live and in the job record",
    "elasticsearch.bulk.max_text_document_size": (
        "Sluice keeps extracted text whole and skips documents over 10 MiB"
    ),
    "elasticsearch.bulk.concurrent_downloads": "each source reads its documents itself",
    "elasticsearch.bulk.enable_operations_logging": (
        "every failed operation goes to the job's failure log (`sluice job failures`)"
    ),
    "elasticsearch.bulk.error_monitor.error_queue_size": (
        "the failure log keeps every error, not the last few"
    ),
    "service.preflight_max_attempts": "`sluice run` runs its preflight checks once",
    "service.preflight_idle": "`sluice run` runs its preflight checks once",
    "service.max_errors": "`sluice run` retries every service.idling seconds without a limit",
    "service.max_errors_span": "`sluice run` retries every service.idling seconds",
    "service.max_concurrent_access_control_syncs": "Sluice runs no access-control syncs",
    "service.max_concurrent_scheduling_tasks": "Sluice schedules jobs in its one service loop",
    "service.incremental_sync_interval_seconds": (
        "incremental syncs run on the connector's own incremental schedule"
    ),
    "service.max_file_download_size": "Sluice skips documents over 10 MiB",
    "service.worker_mode": "every `sluice run` process both schedules and runs jobs",
    "service.service_types": "`sluice run` runs the connectors listed in `connectors`",
    "service.fips_mode": "Sluice has no FIPS mode",
    "extraction_service": "Sluice extracts text itself, in process",
}

_HINT = "remove it, or keep it for Elastic's service, which reads it"

#: Elastic's defaults of keys absent from `DEFAULTS` (its code falls back to these).
_OTHER_DEFAULTS: dict[str, Any] = {"service.fips_mode": False}


def unused_warnings(
    data: Mapping[str, Any],
    locate: Callable[[tuple[str | int, ...]], tuple[int, int] | None],
    file: str | None,
) -> list[Problem]:
    """A warning for each key of `UNUSED_BY_SLUICE` the file sets (`data` as written, before
    defaults), at the key's line, in file order."""
    problems = []
    for dotted, instead in UNUSED_BY_SLUICE.items():
        path = tuple(dotted.split("."))
        value = _value_at(data, path)
        if value is None or _is_default(dotted, value):
            continue
        where = locate(path)
        problems.append(
            Problem(
                key=dotted,
                message=f"is not used by Sluice ({instead})",
                hint=_HINT,
                line=where[0] if where else None,
                column=where[1] if where else None,
                severity="warning",
                file=file,
            )
        )
    return sorted(problems, key=lambda p: p.line or 0)


def _value_at(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _is_default(dotted: str, value: Any) -> bool:
    """True when `value` is what Elastic's service assumes anyway for `dotted`."""
    if dotted == "extraction_service":  # a section: quiet when every key is the default
        return isinstance(value, Mapping) and all(
            _same(item, EXTRACTION_SERVICE_DEFAULTS.get(key)) for key, item in value.items()
        )
    default: Any = DEFAULTS
    for part in dotted.split("."):
        default = default.get(part) if isinstance(default, Mapping) else None
    return _same(value, default if default is not None else _OTHER_DEFAULTS.get(dotted))


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, str) and isinstance(default, str):
        return value.strip().lower() == default.lower()  # log levels: INFO == info
    if isinstance(value, bool) or isinstance(default, bool):
        return value is default
    return value == default
