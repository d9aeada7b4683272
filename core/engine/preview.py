"""A dry run: what a sync would do, before the first write.

The engine itself runs (`SyncEngine(preview=...)`), so the preview applies exactly the rules
a real sync applies — sync rules, fingerprints, the size limit, the existing index's
mapping — but nothing reaches Elasticsearch: the index is not created, no mapping is
added, and a `PreviewCollector` takes the place of the bulk sink, answering each operation
as Elasticsearch would (`created` for a new id, `updated` for a listed one) and keeping what
the report needs. Reads only: the index's mapping, its ids and fingerprints, the pipeline.

A bounded preview (`limit`) stops reading after that many source items: the documents that
would be deleted are then unknown (the report says so); a complete one counts them and says
whether the deletion guard would stop the sync.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from sluice.core.engine.fingerprint import FINGERPRINT_FIELD
from sluice.core.engine.mapping_fit import is_iso_date
from sluice.core.engine.queue import ByteBoundedQueue
from sluice.core.engine.settings import EngineSettings
from sluice.core.engine.sink import BulkOp, next_chunk

SAMPLE_DOCUMENTS = 5
SAMPLE_IDS = 10
#: Sizes kept to compute percentiles (a uniform reservoir: memory stays flat).
SIZE_RESERVOIR = 10_000
MAX_FIELDS = 200
MAX_TEXT = 300  # characters of a sample document's string value shown


@dataclass(slots=True)
class FieldSeen:
    """One field path across the previewed documents."""

    kinds: dict[str, int] = field(default_factory=dict)  # JSON kind -> documents
    example: Any = None


@dataclass
class PreviewCollector:
    """Collects what a dry run would write; the engine calls it where it decides."""

    limit: int | None = None  # source items to read (None: all of them)
    index_exists: bool = False  # set by the engine once it looked
    mappings: Mapping[str, Any] | None = None  # the existing index's, when readable
    complete: bool = True  # False once the limit stopped the reading
    new: int = 0
    updated: int = 0
    deleted: int = 0
    sample_ids: list[str] = field(default_factory=list)
    sample_documents: list[dict[str, Any]] = field(default_factory=list)
    excluded: int = 0
    excluded_sample: list[str] = field(default_factory=list)
    too_large: int = 0
    too_large_sample: list[str] = field(default_factory=list)
    conflicts: dict[str, str] = field(default_factory=dict)  # field -> why it is rejected
    deleted_sample: list[str] = field(default_factory=list)
    fields: dict[str, FieldSeen] = field(default_factory=dict)
    sizes_seen: int = 0
    size_total: int = 0
    size_max: int = 0
    _reservoir: list[int] = field(default_factory=list)
    _random: random.Random = field(default_factory=lambda: random.Random(7))

    # -- the engine's hooks ----------------------------------------------------------------
    def exclude(self, doc_id: str, name: str | None) -> None:
        self.excluded += 1
        if len(self.excluded_sample) < SAMPLE_IDS:
            self.excluded_sample.append(name or doc_id)

    def oversize(self, doc_id: str, name: str | None, size: int) -> None:
        self.too_large += 1
        if len(self.too_large_sample) < SAMPLE_IDS:
            self.too_large_sample.append(f"{name or doc_id} ({human_size(size)})")

    def conflict(self, path: str, message: str, document: str) -> None:
        """A field the existing index would reject (the first document that shows it)."""
        if path not in self.conflicts and len(self.conflicts) < 50:
            self.conflicts[path] = f"{message} (in {document})"

    async def consume(
        self,
        queue: ByteBoundedQueue[BulkOp],
        settings: EngineSettings,
        on_result: Callable[..., None],
        indexed: Callable[[str], bool],
    ) -> None:
        """The sink's place: take every operation and answer it as Elasticsearch would."""
        while chunk := await next_chunk(queue, settings):
            for op_type, doc_id, payload, name in chunk:
                if op_type == "delete":
                    self.deleted += 1
                    if len(self.deleted_sample) < SAMPLE_IDS:
                        self.deleted_sample.append(doc_id)
                    on_result(True, {"delete": {"_id": doc_id, "result": "deleted"}}, name)
                    continue
                known = indexed(doc_id)
                if known:
                    self.updated += 1
                else:
                    self.new += 1
                self._document(doc_id, payload)
                result = "updated" if known else "created"
                on_result(True, {"index": {"_id": doc_id, "result": result}}, name)

    # -- what is kept ----------------------------------------------------------------------
    def _document(self, doc_id: str, payload: bytes) -> None:
        body = payload.split(b"\n", 1)[1].rstrip(b"\n")
        self._size(len(body))
        doc = orjson.loads(body)
        doc.pop(FINGERPRINT_FIELD, None)
        if len(self.sample_ids) < SAMPLE_IDS:
            self.sample_ids.append(doc_id)
        if len(self.sample_documents) < SAMPLE_DOCUMENTS:
            self.sample_documents.append({"_id": doc_id, **_shortened(doc)})
        self._fields(doc, "")

    def _size(self, size: int) -> None:
        self.sizes_seen += 1
        self.size_total += size
        self.size_max = max(self.size_max, size)
        if len(self._reservoir) < SIZE_RESERVOIR:
            bisect.insort(self._reservoir, size)
            return
        slot = self._random.randrange(self.sizes_seen)
        if slot < SIZE_RESERVOIR:
            del self._reservoir[self._random.randrange(SIZE_RESERVOIR)]
            bisect.insort(self._reservoir, size)

    def _fields(self, doc: Mapping[str, Any], prefix: str) -> None:
        for key, value in doc.items():
            path = f"{prefix}{key}"
            if isinstance(value, Mapping):
                self._fields(value, f"{path}.")
                continue
            if isinstance(value, list):
                if value and all(isinstance(v, Mapping) for v in value):
                    for item in value[:10]:
                        self._fields(item, f"{path}.")
                    continue
                value = next((v for v in value if v is not None), None)
            if value is None:
                continue
            seen = self.fields.get(path)
            if seen is None:
                if len(self.fields) >= MAX_FIELDS:
                    continue
                seen = self.fields[path] = FieldSeen(example=_shortened(value))
            kind = json_kind(value)
            seen.kinds[kind] = seen.kinds.get(kind, 0) + 1

    def sizes(self) -> dict[str, Any]:
        """The size distribution of the documents that would be written (bytes)."""
        if not self.sizes_seen:
            return {"documents": 0}
        kept = self._reservoir

        def percentile(p: float) -> int:
            return kept[min(len(kept) - 1, int(p * len(kept)))]

        return {
            "documents": self.sizes_seen,
            "total_bytes": self.size_total,
            "min": kept[0],
            "median": percentile(0.5),
            "p90": percentile(0.9),
            "p99": percentile(0.99),
            "max": self.size_max,
        }


def human_size(size: float) -> str:
    """Bytes in words: 812 B, 4.9 KiB, 12.3 MiB."""
    for unit in ("B", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} MiB"


def json_kind(value: Any) -> str:
    """How Elasticsearch's dynamic mapping sees a JSON value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "date" if is_iso_date(value) else "string"
    return "object"


def _shortened(value: Any) -> Any:
    """A sample value small enough to show (long text cut, nested values kept)."""
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if isinstance(value, Mapping):
        return {k: _shortened(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shortened(v) for v in value[:20]]
    return value
