"""The typed view of a loaded config: one frozen dataclass per section Sluice acts on.

Every value comes from `Config.data`, where the loader merged Elastic's defaults
(`core.config.defaults`, the one place defaults are written). The engine's settings and the
service's options are built from these objects, so a default is never restated elsewhere and a
key the user sets reaches every consumer (the CLI, the service and the TUI alike). Keys Sluice
does not act on are listed in `core.config.unused` and warned about when set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sluice.core.config.defaults import DEFAULTS, ELASTIC_SOURCES, SLUICE_BULK_DEFAULTS

_BULK_DEFAULTS: Mapping[str, Any] = DEFAULTS["elasticsearch"]["bulk"]
_SERVICE_DEFAULTS: Mapping[str, Any] = DEFAULTS["service"]


def _section(value: Any, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """`value` over `defaults` (a missing or malformed section means the defaults)."""
    return {**defaults, **(value if isinstance(value, Mapping) else {})}


@dataclass(frozen=True, slots=True)
class ErrorMonitorSettings:
    """`elasticsearch.bulk.error_monitor`: when a sync fails because too many documents did,
    with the semantics of Elastic's `ErrorMonitor` (a limit trips when *exceeded*).
    `error_queue_size` is not here: Sluice keeps every failure (`core.config.unused`)."""

    enabled: bool
    max_total_errors: int
    max_consecutive_errors: int
    max_error_rate: float
    error_window_size: int

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> ErrorMonitorSettings:
        values = _section(section, _BULK_DEFAULTS["error_monitor"])
        return cls(
            enabled=bool(values["enabled"]),
            max_total_errors=int(values["max_total_errors"]),
            max_consecutive_errors=int(values["max_consecutive_errors"]),
            max_error_rate=float(values["max_error_rate"]),
            error_window_size=int(values["error_window_size"]),
        )


@dataclass(frozen=True, slots=True)
class BulkSettings:
    """`elasticsearch.bulk`, the keys the sync engine acts on (sizes in MiB, as written)."""

    queue_max_size: int
    queue_max_mem_size: float
    chunk_size: int
    chunk_max_mem_size: float
    max_concurrency: int
    max_retries: int
    retry_interval: float
    request_timeout: float  # Sluice only
    error_monitor: ErrorMonitorSettings

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> BulkSettings:
        values = _section(section, {**_BULK_DEFAULTS, **SLUICE_BULK_DEFAULTS})
        return cls(
            queue_max_size=int(values["queue_max_size"]),
            queue_max_mem_size=float(values["queue_max_mem_size"]),
            chunk_size=int(values["chunk_size"]),
            chunk_max_mem_size=float(values["chunk_max_mem_size"]),
            max_concurrency=int(values["max_concurrency"]),
            max_retries=int(values["max_retries"]),
            retry_interval=float(values["retry_interval"]),
            request_timeout=float(values["request_timeout"]),
            error_monitor=ErrorMonitorSettings.from_mapping(values["error_monitor"]),
        )


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """`service`, the keys `sluice run` acts on."""

    idling: float
    heartbeat: float
    max_concurrent_content_syncs: int
    job_cleanup_interval: float
    log_level: str

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> ServiceSettings:
        values = _section(section, _SERVICE_DEFAULTS)
        return cls(
            idling=float(values["idling"]),
            heartbeat=float(values["heartbeat"]),
            max_concurrent_content_syncs=int(values["max_concurrent_content_syncs"]),
            job_cleanup_interval=float(values["job_cleanup_interval"]),
            log_level=str(values["log_level"]),
        )


@dataclass(frozen=True, slots=True)
class Settings:
    """The typed config: what every consumer reads (see the module docstring)."""

    bulk: BulkSettings
    service: ServiceSettings
    #: service type -> "module:Class", Elastic's built-in classes included.
    sources: Mapping[str, str]

    @property
    def custom_sources(self) -> dict[str, str]:
        """`sources` entries the user added or changed (not Elastic's built-in classes); the
        source registry loads these next to Sluice's own sources."""
        return {k: v for k, v in self.sources.items() if ELASTIC_SOURCES.get(k) != v}

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> Settings:
        """Build from a config's nested data (defaults fill whatever is missing)."""
        data = data or {}
        es = data.get("elasticsearch")
        bulk = es.get("bulk") if isinstance(es, Mapping) else None
        sources = data.get("sources")
        return cls(
            bulk=BulkSettings.from_mapping(bulk),
            service=ServiceSettings.from_mapping(data.get("service")),
            sources=dict(sources) if isinstance(sources, Mapping) else dict(ELASTIC_SOURCES),
        )

    @classmethod
    def defaults(cls) -> Settings:
        """The settings of an empty config.yml."""
        return cls.from_data(None)
