"""Engine limits, read from config.yml's `elasticsearch.bulk` with Elastic's key names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Defaults are Elastic's, confirmed by `make bench --tune` (2 CPUs, 1 KB documents): on
    the local server chunks of 500 with 5 requests in flight were fastest (9.4k docs/s; chunks
    of 1000: 8.1k; 2 or 8 in flight: 8.4-8.6k). Only the null endpoint, which costs nothing
    per request, prefers chunks of 1000 — a real cluster does not."""

    queue_max_size: int = 1024  # documents between source and sink
    queue_max_mem_size: int = 25 * MIB
    chunk_size: int = 500  # operations per bulk request
    chunk_max_mem_size: int = 3 * MIB
    max_concurrency: int = 5  # bulk requests in flight
    max_document_size: int = 10 * MIB  # larger documents are dropped and counted
    # `bulk.max_retries`: retries of a whole request that timed out, could not connect or
    # was answered 429/5xx, waiting `bulk.retry_interval` s, doubling (capped at 60 s); also
    # the retries of single documents refused with 429, which wait `bulk_initial_backoff`.
    bulk_max_retries: int = 5
    bulk_retry_interval: float = 10.0
    bulk_initial_backoff: float = 1.0
    # `bulk.request_timeout` (Sluice only): seconds a bulk request may go unanswered before
    # it counts as timed out and is retried (never longer than `elasticsearch.request_timeout`).
    # A healthy cluster answers a 500-document request in well under a second; the general
    # 240 s default left a black-holed connection stalling the sync for 4 minutes unseen.
    bulk_request_timeout: float = 60.0
    progress_interval: float = 0.25  # seconds between progress snapshots
    scan_page_size: int = 10_000  # ids per page when listing the index
    # Error budget, as Elastic's service: fail after this many consecutive / total errors,
    # or when more than `max_error_ratio` of the last `error_window` operations failed.
    max_consecutive_errors: int = 10
    max_total_errors: int = 1000
    max_error_ratio: float = 0.15
    error_window: int = 100

    @classmethod
    def from_bulk_config(cls, bulk: Mapping[str, Any] | None) -> EngineSettings:
        """Build from the `elasticsearch.bulk` mapping (sizes in MiB, like Elastic's keys)."""
        bulk = bulk or {}
        base = cls()
        return cls(
            queue_max_size=int(bulk.get("queue_max_size", base.queue_max_size)),
            queue_max_mem_size=int(
                float(bulk.get("queue_max_mem_size", base.queue_max_mem_size / MIB)) * MIB
            ),
            chunk_size=int(bulk.get("chunk_size", base.chunk_size)),
            chunk_max_mem_size=int(
                float(bulk.get("chunk_max_mem_size", base.chunk_max_mem_size / MIB)) * MIB
            ),
            max_concurrency=int(bulk.get("max_concurrency", base.max_concurrency)),
            bulk_max_retries=int(bulk.get("max_retries", base.bulk_max_retries)),
            bulk_retry_interval=float(bulk.get("retry_interval", base.bulk_retry_interval)),
            bulk_request_timeout=float(bulk.get("request_timeout", base.bulk_request_timeout)),
        )
