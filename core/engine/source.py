"""What the engine needs from a data source.

`sources.base.BaseSource` implements this protocol; the engine depends only on it, so core/
never imports sources/. A document is a plain dict with a stable `_id` (str) and a
`_timestamp` (ISO-8601 str) used to skip unchanged documents in incremental syncs.

Reserved fields, read and removed by the engine:

* `_sluice_name` (`NAME_FIELD`): what a person calls the document (a path, a table and key),
  shown in the failure log instead of a hashed id; without it the engine uses `path`, then
  `title`.
* `_sluice_failure` (`FAILURE_FIELD`), on a dict without `_id`: not a document but something
  the source could not read (a folder it could not list). The engine counts it as failed and
  records it with its `_sluice_name`; nothing is indexed. `_sluice_operation` may say what
  failed (default "extract").
* `_sluice_scope` (`SCOPE_FIELD`), on such a failure record: a `Scope` naming the indexed
  documents of the part that could not be read (the folder's files, the table's rows). A full
  sync must not delete documents the source did not yield because it could not read them, so
  the engine keeps every stale document the scope covers (and any whose scope field it cannot
  read) and deletes the rest. A failure record without a scope could cover anything: the
  engine then deletes nothing at all. Either way the job result says what was kept and why.

Optional: `async count_documents(filtering) -> int | None`, how many documents a full sync
will yield (an estimate is fine). The engine runs it alongside the sync to show a progress
bar and an ETA; it must never be needed for correctness.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

Document = dict[str, Any]

NAME_FIELD = "_sluice_name"
FAILURE_FIELD = "_sluice_failure"
OPERATION_FIELD = "_sluice_operation"
SCOPE_FIELD = "_sluice_scope"


@dataclass(frozen=True, slots=True)
class Scope:
    """The indexed documents that belong to a part of the source, told by one of their fields.

    One rule for every source: a tree source (a folder, a bucket, a share) names the folder
    it could not list as a path prefix of its documents' relative path field
    (`Scope("relative_path", "docs/closed/", prefix=True)`; `""` is the whole tree); a SQL
    source names the table it could not read by its documents' table field
    (`Scope("table", "orders")`). The engine reads that field of each stale document from the
    index, so the source needs nothing but the field it already writes.
    """

    field: str
    value: str
    prefix: bool = False

    def covers(self, document: Mapping[str, Any]) -> bool | None:
        """Whether an indexed document (its `_source`) belongs to this part; None when it
        has no such field, so nobody can tell (the engine then keeps it)."""
        found = document.get(self.field)
        if found is None:
            return None
        values = found if isinstance(found, list) else [found]
        if self.prefix:
            return any(str(value).startswith(self.value) for value in values)
        return any(str(value) == self.value for value in values)


class Operation(StrEnum):
    """What an incremental source asks the engine to do with a document."""

    INDEX = "index"
    UPDATE = "update"
    DELETE = "delete"


@runtime_checkable
class DocumentSource(Protocol):
    """The part of a source the engine drives."""

    service_type: str

    def get_docs(self, filtering: Mapping[str, Any] | None = None) -> AsyncIterator[Document]:
        """Yield every document of the source (a full sync)."""
        ...

    async def close(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class IncrementalSource(DocumentSource, Protocol):
    """A source that can yield only the changes since a stored cursor."""

    sync_cursor: Any

    def get_docs_incrementally(
        self, sync_cursor: Any, filtering: Mapping[str, Any] | None = None
    ) -> AsyncIterator[tuple[Document, Operation]]:
        """Yield `(document, operation)` pairs since `sync_cursor`; set `self.sync_cursor`
        to the new cursor once the iteration is exhausted."""
        ...
