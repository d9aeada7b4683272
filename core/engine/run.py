"""The state of one sync: everything `SyncEngine.run` learns and counts while it runs.

One object per run, created by `run()` and dropped after it, so nothing leaks from one sync
into the next and no step depends on another having been called first on the engine (the
engine itself holds only its client, settings and collaborators).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from sluice.core.engine.budget import ErrorBudget
from sluice.core.engine.checkpoint import CheckpointTracker
from sluice.core.engine.content import ContentLoads
from sluice.core.engine.deletion_guard import GuardTrip
from sluice.core.engine.fingerprint import Fingerprints
from sluice.core.engine.mapping_fit import MappingFit
from sluice.core.engine.preview import PreviewCollector
from sluice.core.engine.progress import (
    Counters,
    Phase,
    ProgressSnapshot,
    RateMeter,
    SourceWaiting,
)
from sluice.core.engine.queue import ByteBoundedQueue, InFlight
from sluice.core.engine.reconcile import Reconciliation
from sluice.core.engine.rules import SyncRules
from sluice.core.engine.sink import BulkOp, StallWatch
from sluice.core.engine.snapshot import IdLedger
from sluice.core.engine.unread import UnreadPart


class SyncMode(StrEnum):
    FULL = "full"  # everything, then delete what the source no longer has
    CURSOR = "cursor"  # the source's own changes since `sync_cursor`
    TIMESTAMPS = "timestamps"  # everything, skipping documents whose `_timestamp` is unchanged


@dataclass(eq=False)
class SyncRun:
    """Mutable state of one sync (see the module docstring)."""

    index_name: str
    mode: SyncMode
    rules: SyncRules
    queue: ByteBoundedQueue[BulkOp]
    budget: ErrorBudget
    stalls: StallWatch
    started: float = field(default_factory=time.monotonic)
    # progress
    counters: Counters = field(default_factory=Counters)
    phase: Phase = Phase.STARTING
    last_error: str | None = None
    notices: list[str] = field(default_factory=list)  # for the user, although the sync goes on
    waiting: SourceWaiting | None = None  # the source's server asked it to wait
    total: int | None = None  # documents the source will yield, when it says
    stale_total: int | None = None  # stale documents to delete, once counted
    deletes_resolved: int = 0  # delete operations answered (deleted, gone or failed)
    deletes_before_stale: int = 0
    rate: RateMeter = field(default_factory=RateMeter)
    phase_rate: RateMeter = field(default_factory=RateMeter)
    rate_value: float = 0.0
    phase_rate_value: float = 0.0
    # the index, as found by the set-up
    index_created: bool = False
    mappings: Mapping[str, Any] | None = None  # of an index that existed
    index_settings: Mapping[str, Any] = field(default_factory=dict)  # its index.mapping.*
    pipeline: str | None = None  # the ingest pipeline in use, if the cluster has it
    fit: MappingFit | None = None  # the existing index's mappings, to judge documents by
    ledger: IdLedger | None = None  # ids indexed before and seen now (not for cursor syncs)
    tracker: CheckpointTracker | None = None  # checkpoints of a resumable source, if asked
    loads: ContentLoads | None = None  # lazy content being loaded (set by the extraction)
    inflight: InFlight = field(default_factory=InFlight)  # bulk requests being sent
    resumed_from: int | None = None  # the checkpoint's item this run continued after
    fingerprints: Fingerprints | None = None  # None: not written (a strict index refused them)
    skip_unchanged: bool = False  # documents whose fingerprint the index holds are not sent
    # outcome
    source_error: str | None = None
    listing_error: str | None = None
    unread: list[UnreadPart] = field(default_factory=list)  # parts the source could not read
    notice: str | None = None  # why stale documents were kept
    guard_trip: GuardTrip | None = None  # the deletion guard stopped the sync before deleting
    reconciliation: Reconciliation | None = None  # the index against the source, once done
    preview: PreviewCollector | None = None  # a dry run: collected, nothing written
    index_json: bytes = b""  # the index name as JSON, for the bulk headers

    def __post_init__(self) -> None:
        self.index_json = orjson.dumps(self.index_name)

    def done(self) -> int:
        c = self.counters
        return c.indexed + c.updated + c.deleted + c.skipped + c.unchanged

    def snapshot(self) -> ProgressSnapshot:
        return ProgressSnapshot(
            phase=self.phase,
            counters=self.counters.copy(),
            elapsed=time.monotonic() - self.started,
            docs_per_second=self.rate_value,
            total=self.total,
            last_error=self.last_error,
            stale_total=self.stale_total,
            stale_done=self.deletes_resolved - self.deletes_before_stale,
            phase_rate=self.phase_rate_value,
            stalled=self.stalls.current,
            notices=tuple(self.notices),
            waiting=self.waiting,
        )
