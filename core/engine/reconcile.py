"""After a sync: does the index hold what the source yielded?

Elastic's own tests only assert `count >= expected`, so a missed deletion (or a document
removed behind the service's back) goes unnoticed. Here every completed sync compares the
number of documents the index should hold with the number it holds, and — when they differ
and the index is small enough to list cheaply — the ids, keeping a sample of the missing and
the extra ones. The result is recorded on the job (`metadata.sluice.reconciliation`) and read
by the dashboard, `sluice job show` and the monitor.

What the index "should hold":
* a full sync with a ledger (an index that existed): every id the source yielded, plus the
  stale ones kept because part of the source could not be read — the ledger's seen ids;
* a full sync into a new index: the documents written or found unchanged;
* an incremental sync: unknown (it saw only the changes); the index's count is recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import AsyncElasticsearch
from elasticsearch.exceptions import ApiError, TransportError

from sluice.core.engine.snapshot import IdLedger, scan_index_ids

log = logging.getLogger("sluice.reconcile")

#: Ids are compared only when the counts differ and the index holds at most this many
#: (listing ~20,000 ids/s on a small cluster: a few seconds at most).
ID_LIMIT = 200_000
SAMPLE = 10


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What the index should hold against what it holds, after one sync."""

    expected: int | None  # None: not known (an incremental sync saw only the changes)
    indexed: int | None  # None: the index could not be counted
    missing: int | None = None  # yielded but not in the index (None: ids not compared)
    extra: int | None = None  # in the index but not yielded
    missing_sample: list[str] = field(default_factory=list)
    extra_sample: list[str] = field(default_factory=list)
    note: str | None = None  # why ids were not compared, or the count failed

    @property
    def matches(self) -> bool | None:
        if self.expected is None or self.indexed is None:
            return None
        return self.expected == self.indexed and not self.missing and not self.extra

    def line(self) -> str:
        """One line for a summary: "source 50,000 · index 50,000 ✔" or the difference."""
        if self.indexed is None:
            return f"index not counted: {self.note or 'unknown error'}"
        if self.expected is None:
            return f"index {self.indexed:,} (an incremental sync: the source's total is unknown)"
        head = f"source {self.expected:,} · index {self.indexed:,}"
        if self.matches:
            return f"{head} ✔"
        parts = []
        if self.missing:
            parts.append(f"{self.missing:,} missing (e.g. {', '.join(self.missing_sample[:3])})")
        if self.extra:
            parts.append(f"{self.extra:,} extra (e.g. {', '.join(self.extra_sample[:3])})")
        if not parts:
            difference = self.indexed - self.expected
            parts.append(f"{abs(difference):,} {'extra' if difference > 0 else 'missing'}")
            if self.note:
                parts.append(self.note)
        return f"{head} ✘ " + "; ".join(parts)

    def advice(self) -> str:
        """What to do about a difference (empty when there is none, or nothing to do)."""
        if self.matches is not False or self.expected is None or self.indexed is None:
            return ""
        if self.missing or (self.missing is None and self.indexed < self.expected):
            return "the next full sync writes the missing ones again"
        return (
            "the extra ones were kept (see the notices) or written by something else; a full "
            "sync that reads the whole source deletes them"
        )

    def as_doc(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "indexed": self.indexed,
            "matches": self.matches,
            "missing": self.missing,
            "extra": self.extra,
            "missing_sample": list(self.missing_sample),
            "extra_sample": list(self.extra_sample),
            "note": self.note,
        }

    @classmethod
    def from_doc(cls, doc: Any) -> Reconciliation | None:
        if not isinstance(doc, Mapping):
            return None

        def number(key: str) -> int | None:
            value = doc.get(key)
            return int(value) if isinstance(value, int | float) else None

        return cls(
            expected=number("expected"),
            indexed=number("indexed"),
            missing=number("missing"),
            extra=number("extra"),
            missing_sample=[str(i) for i in doc.get("missing_sample") or []],
            extra_sample=[str(i) for i in doc.get("extra_sample") or []],
            note=str(doc["note"]) if doc.get("note") else None,
        )


async def count_index(client: AsyncElasticsearch, index: str, *, refresh: bool = True) -> int:
    """The index's document count; after a refresh by default, so this sync's writes count."""
    if refresh:
        await client.indices.refresh(index=index)
    return int((await client.count(index=index))["count"])


async def reconcile(
    client: AsyncElasticsearch,
    index: str,
    *,
    expected: int | None,
    ledger: IdLedger | None,
    page_size: int = 5000,
) -> Reconciliation:
    """Compare; never raises for the cluster's failures (the note says what failed)."""
    try:
        indexed = await count_index(client, index)
    except (ApiError, TransportError) as exc:
        return Reconciliation(expected, None, note=f"could not count {index}: {exc}")
    if expected is None or indexed == expected:
        return Reconciliation(expected, indexed)
    if ledger is None:
        return Reconciliation(expected, indexed, note="ids not compared (a new index)")
    if indexed > ID_LIMIT:
        return Reconciliation(
            expected, indexed, note=f"ids not compared (more than {ID_LIMIT:,} documents)"
        )
    try:
        ledger.start_final()
        async for page in scan_index_ids(client, index, page_size=page_size, with_state=False):
            ledger.add_final(row[0] for row in page)
    except (ApiError, TransportError) as exc:
        return Reconciliation(expected, indexed, note=f"could not list {index}'s ids: {exc}")
    missing, missing_sample = ledger.seen_not_final(SAMPLE)
    extra, extra_sample = ledger.final_not_seen(SAMPLE)
    return Reconciliation(expected, indexed, missing, extra, missing_sample, extra_sample)
