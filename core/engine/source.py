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

Optional: `async count_documents(filtering) -> int | None`, how many documents a full sync
will yield (an estimate is fine). The engine runs it alongside the sync to show a progress
bar and an ETA; it must never be needed for correctness.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

Document = dict[str, Any]

NAME_FIELD = "_sluice_name"
FAILURE_FIELD = "_sluice_failure"
OPERATION_FIELD = "_sluice_operation"


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
