"""Engine limits, built from the typed config (`core.config.typed.BulkSettings`).

The defaults are not restated here: they are those of an empty config.yml, i.e. Elastic's
(`core.config.defaults`), so `EngineSettings()` and a sync run by `sluice sync`, `sluice run`
or the TUI with no `bulk` section behave the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sluice.core.config.typed import BulkSettings

if TYPE_CHECKING:
    from sluice.core.config.model import Config

MIB = 1024 * 1024

_BULK = BulkSettings.from_mapping(None)
_MONITOR = _BULK.error_monitor


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Elastic's defaults were confirmed by `make bench --tune` (2 CPUs, 1 KB documents): on
    the local server chunks of 500 with 5 requests in flight were fastest (9.4k docs/s; chunks
    of 1000: 8.1k; 2 or 8 in flight: 8.4-8.6k). Only the null endpoint, which costs nothing
    per request, prefers chunks of 1000 — a real cluster does not."""

    queue_max_size: int = _BULK.queue_max_size  # documents between source and sink
    queue_max_mem_size: int = int(_BULK.queue_max_mem_size * MIB)
    chunk_size: int = _BULK.chunk_size  # operations per bulk request
    chunk_max_mem_size: int = int(_BULK.chunk_max_mem_size * MIB)
    max_concurrency: int = _BULK.max_concurrency  # bulk requests in flight
    max_document_size: int = 10 * MIB  # larger documents are dropped and counted
    # `bulk.max_retries`: retries of a whole request that timed out, could not connect or
    # was answered 429/5xx, waiting `bulk.retry_interval` s, doubling (capped at 60 s); also
    # the retries of single documents refused with 429, which wait `bulk_initial_backoff`.
    bulk_max_retries: int = _BULK.max_retries
    bulk_retry_interval: float = _BULK.retry_interval
    bulk_initial_backoff: float = 1.0
    # `bulk.request_timeout` (Sluice only): seconds a bulk request may go unanswered before
    # it counts as timed out and is retried (never longer than `elasticsearch.request_timeout`).
    bulk_request_timeout: float = _BULK.request_timeout
    progress_interval: float = 0.25  # seconds between progress snapshots
    scan_page_size: int = 10_000  # ids per page when listing the index
    checkpoint_interval: float = 5.0  # seconds between checkpoints of a resumable source
    # `bulk.error_monitor`, as Elastic's ErrorMonitor: fail once more than this many
    # consecutive / total documents failed, or more than `max_error_ratio` of the last
    # `error_window` operations; `error_monitor_enabled: False` only counts.
    error_monitor_enabled: bool = _MONITOR.enabled
    max_consecutive_errors: int = _MONITOR.max_consecutive_errors
    max_total_errors: int = _MONITOR.max_total_errors
    max_error_ratio: float = _MONITOR.max_error_rate
    error_window: int = _MONITOR.error_window_size

    @classmethod
    def from_bulk(cls, bulk: BulkSettings) -> EngineSettings:
        """Build from the typed `elasticsearch.bulk` section (sizes in MiB there)."""
        monitor = bulk.error_monitor
        return cls(
            queue_max_size=bulk.queue_max_size,
            queue_max_mem_size=int(bulk.queue_max_mem_size * MIB),
            chunk_size=bulk.chunk_size,
            chunk_max_mem_size=int(bulk.chunk_max_mem_size * MIB),
            max_concurrency=bulk.max_concurrency,
            bulk_max_retries=bulk.max_retries,
            bulk_retry_interval=bulk.retry_interval,
            bulk_request_timeout=bulk.request_timeout,
            error_monitor_enabled=monitor.enabled,
            max_consecutive_errors=monitor.max_consecutive_errors,
            max_total_errors=monitor.max_total_errors,
            max_error_ratio=monitor.max_error_rate,
            error_window=monitor.error_window_size,
        )

    @classmethod
    def from_config(cls, config: Config | None) -> EngineSettings:
        """The settings of a loaded config.yml (the defaults without one): what `sluice sync`,
        `sluice run` and the TUI's local sync all use."""
        if config is None:
            return cls()
        return cls.from_bulk(config.settings.bulk)

    @classmethod
    def from_bulk_config(cls, bulk: Mapping[str, Any] | None) -> EngineSettings:
        """Build from a raw `elasticsearch.bulk` mapping (missing keys take the defaults)."""
        return cls.from_bulk(BulkSettings.from_mapping(bulk))
