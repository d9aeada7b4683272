"""What the engine needs from a data source, and the optional capabilities it may declare.

`sources.base.BaseSource` implements these protocols; the engine depends only on them, so
core/ never imports sources/. A document is a plain dict with a stable `_id` (str) and a
`_timestamp` (ISO-8601 str) used to skip unchanged documents in incremental syncs. The dict
holds only what the index receives: what the engine must know about a document travels
beside it, in a `SourceDocument`.

`get_docs` yields, in any mix:

* a plain `Document` — the common case, nothing to say about it;
* a `SourceDocument`: the document with, beside it, `error` (the source could only partly
  read it: indexed with what it has, counted failed, in the failure log), `name` (what a
  person calls it, shown in the failure log instead of a hashed id; default `path`, then
  `title`) and `content` (lazy content, below);
* a `SourceFailure`: not a document but a part the source could not read (a folder it could
  not list, a table it may not read). The engine counts it as failed and records it. Its
  `scope` names the indexed documents of that part: a full sync must not delete documents
  the source did not yield because it could not read them, so the engine keeps every stale
  document the scope covers (and any whose scope field it cannot read) and deletes the rest.
  A failure without a scope could cover anything: the engine then deletes nothing at all.

Capabilities, each declared by a protocol and asked through one function here (the engine
never probes with getattr):

* counting — `CountingSource.count_documents(filtering)`: how many documents a full sync will
  yield (an estimate is fine), for a progress bar and an ETA; never needed for correctness.
  `counting(source)`.
* cursor-based incremental — `IncrementalSource`: `supports_incremental_sync()`,
  `get_docs_incrementally(cursor, filtering)` and `sync_cursor`. `incremental(source)`.
* advanced rules — `AdvancedRulesSource.validate_advanced_rules(rules)`.
  `advanced_rules_support(source)`.
* lazy content — `SourceDocument.content`: an async loader returning the fields to add (a
  file's `body`). The engine awaits it only for documents it will write, just before
  serializing them, a bounded number at a time; an unchanged document of an incremental
  sync is never loaded, and a loader that raises fails that document alone (indexed with
  its metadata). A source that uses it sets `lazy_content = True` (`has_lazy_content`).
- reporting: `watch(listener)` — the source tells the engine, as they happen, of waits its
  server asks for (`SourceWaiting`, shown live: "throttled by Microsoft, resuming in 30 s")
  and of notices (`SourceNotice`). `reporting(source)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeGuard, runtime_checkable

from sluice.core.engine.progress import SourceWaiting

Document = dict[str, Any]
#: Lazy content: awaited by the engine for a document it will write; returns the fields to
#: add to it (`{"body": text}`), raises to fail that document alone.
ContentLoader = Callable[[], Awaitable[Mapping[str, Any]]]


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


class ContentError(Exception):
    """Raised by a content loader: the document's content could not be read. Its message is
    the reason recorded for that document, as written; the document keeps its metadata."""


@dataclass(slots=True)
class SourceDocument:
    """A document with what the engine must know about it, kept beside it so the index
    receives the document exactly as the source built it."""

    document: Document
    error: str | None = None  # only partly read: indexed, counted failed, logged
    name: str | None = None  # what a person calls it, for the failure log
    content: ContentLoader | None = None  # lazy content, loaded only if it is written


@dataclass(frozen=True, slots=True)
class SourceFailure:
    """Not a document: a part the source could not read outside any one document. `scope`
    names that part's indexed documents, which a full sync then keeps; None = could be any."""

    name: str
    reason: str
    operation: str = "extract"  # what failed: "list" (a folder), "read" (a table), ...
    scope: Scope | None = None


#: What `get_docs` may yield.
SourceItem = Document | SourceDocument | SourceFailure


class Operation(StrEnum):
    """What an incremental source asks the engine to do with a document."""

    INDEX = "index"
    UPDATE = "update"
    DELETE = "delete"


@runtime_checkable
class DocumentSource(Protocol):
    """The part of a source the engine drives: a full sync, then `close()`."""

    service_type: str

    def get_docs(self, filtering: Mapping[str, Any] | None = None) -> AsyncIterator[SourceItem]:
        """Yield every document of the source (a full sync) as `SourceItem`s."""
        ...

    async def close(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class CountingSource(Protocol):
    """A source that can say how many documents a full sync will yield."""

    async def count_documents(self, filtering: Mapping[str, Any] | None = None) -> int | None:
        """The number of documents (an estimate is fine), None when it cannot tell."""
        ...


@runtime_checkable
class IncrementalSource(DocumentSource, Protocol):
    """A source that can yield only the changes since a stored cursor."""

    sync_cursor: Any

    def supports_incremental_sync(self) -> bool:
        """True when this configured instance can (a SQL source needs `modified_column`)."""
        ...

    def get_docs_incrementally(
        self, sync_cursor: Any, filtering: Mapping[str, Any] | None = None
    ) -> AsyncIterator[tuple[SourceItem, Operation]]:
        """Yield `(item, operation)` pairs since `sync_cursor` (the item a `SourceItem`, as
        `get_docs` yields); set `self.sync_cursor` to the new cursor once exhausted."""
        ...


@runtime_checkable
class AdvancedRulesSource(Protocol):
    """A source that accepts advanced sync rules and can check a snippet."""

    advanced_rules_enabled: bool

    async def validate_advanced_rules(self, rules: Any) -> list[str]:
        """Problems of the snippet, one message each; empty = valid."""
        ...


@dataclass(frozen=True, slots=True)
class SourceNotice:
    """Something the user should know about this sync although it goes on (a part left
    out, a change token that expired): kept in the result's and snapshots' `notices`."""

    text: str


#: What a source tells the engine while it reads: a wait its server asked for, the end of
#: that wait (None), or a notice.
SourceEvent = SourceWaiting | SourceNotice | None


@runtime_checkable
class ReportingSource(Protocol):
    """A source that tells the engine about waits and notices as they happen."""

    def watch(self, listener: Callable[[SourceEvent], None]) -> None:
        """Call `listener` with each `SourceEvent`, on the engine's event loop."""
        ...


def reporting(source: object) -> ReportingSource | None:
    """The source as a `ReportingSource`, or None when it says nothing."""
    return source if isinstance(source, ReportingSource) else None


def counting(source: object) -> CountingSource | None:
    """The source as a `CountingSource`, or None when it cannot count."""
    return source if isinstance(source, CountingSource) else None


def incremental(source: object) -> IncrementalSource | None:
    """The source as an `IncrementalSource` when this instance can sync from a cursor."""
    if isinstance(source, IncrementalSource) and source.supports_incremental_sync():
        return source
    return None


def advanced_rules_support(source: object) -> AdvancedRulesSource | None:
    """The source as an `AdvancedRulesSource` when it accepts advanced rules."""
    if isinstance(source, AdvancedRulesSource) and source.advanced_rules_enabled:
        return source
    return None


@runtime_checkable
class LazyContentSource(Protocol):
    """A source whose documents may carry a `SourceDocument.content` loader."""

    lazy_content: bool


def has_lazy_content(source: object) -> bool:
    """Whether the source yields documents whose content is loaded only when written."""
    return isinstance(source, LazyContentSource) and source.lazy_content is True


def is_document(item: object) -> TypeGuard[Document]:
    """A plain document dict (no `SourceDocument` or `SourceFailure` around it)."""
    return type(item) is dict


def volatile_fields(source: object) -> frozenset[str]:
    """Fields of the source's documents that change without their content changing (a
    file's access time, a row's "synced at" `_timestamp`): left out of fingerprints
    (`core.engine.fingerprint`). A source lists them in a `volatile_fields` attribute."""
    found = getattr(source, "volatile_fields", ())
    return (
        frozenset(str(name) for name in found)
        if isinstance(found, (tuple, frozenset, set, list))
        else frozenset()
    )


#: Loads in flight. Extraction itself is bounded by its pool; this bounds the memory of
#: loaded documents waiting for the queue (measured on the `dir` source: 16 in flight hides
#: the thread hops of small text files, ~1k files/s).
CONTENT_CONCURRENCY = 16


def content_concurrency(source: object) -> int:
    """How many lazy content loads the source wants in flight: `content_concurrency` when it
    says (the `dir` source reads small local files in batches, so more at once means fewer
    thread hops), else the engine's default."""
    found = getattr(source, "content_concurrency", None)
    if isinstance(found, int) and not isinstance(found, bool) and found > 0:
        return found
    return CONTENT_CONCURRENCY
