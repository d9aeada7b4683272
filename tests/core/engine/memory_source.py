"""An in-memory source for engine tests: a dict of documents the test edits between syncs.

Not a fake of anything: it is a real `DocumentSource` whose data the test controls, so the
assertions are about what lands in the real Elasticsearch-compatible server.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Mapping
from typing import Any

from sluice.core.engine.source import ContentError, Operation, SourceDocument, SourceFailure


class SourceBroke(RuntimeError):
    pass


class MemorySource:
    service_type = "memory"

    def __init__(
        self,
        docs: Mapping[str, dict[str, Any]] | None = None,
        *,
        fail_after: int | None = None,
        delay: float = 0.0,
    ) -> None:
        self.docs: dict[str, dict[str, Any]] = dict(docs or {})
        self.fail_after = fail_after
        self.delay = delay
        self.closed = False
        self.changes: list[tuple[dict[str, Any], Operation]] = []
        self.sync_cursor: Any = None
        self.cursor_mode = False
        self.filtering_seen: Any = None
        self.countable = False
        self.records: list[SourceFailure] = []  # yielded first: what the source could not read
        # beside the documents, by id: an error, a name, lazy content (fields, or a
        # ContentError message to raise), and the ids whose content the engine loaded
        self.errors: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.lazy: dict[str, dict[str, Any] | str] = {}
        self.loaded: list[str] = []

    async def count_documents(self, filtering: Mapping[str, Any] | None = None) -> int | None:
        return len(self.docs) if self.countable else None

    def supports_incremental_sync(self) -> bool:
        return self.cursor_mode

    async def get_docs(self, filtering: Mapping[str, Any] | None = None) -> AsyncIterator[dict]:
        self.filtering_seen = filtering
        for record in self.records:
            yield record
        for count, (doc_id, doc) in enumerate(list(self.docs.items())):
            if self.fail_after is not None and count >= self.fail_after:
                raise SourceBroke(f"connection lost after {count} documents")
            if self.delay:
                await asyncio.sleep(self.delay)
            yield self._item(doc_id, {"_id": doc_id, **copy.deepcopy(doc)})
        self.sync_cursor = {"version": len(self.docs)}

    def _item(self, doc_id: str, document: dict[str, Any]) -> dict | SourceDocument:
        if doc_id not in self.errors and doc_id not in self.names and doc_id not in self.lazy:
            return document
        content = None
        if doc_id in self.lazy:

            async def content() -> dict[str, Any]:
                self.loaded.append(doc_id)
                await asyncio.sleep(0)
                fields = self.lazy[doc_id]
                if isinstance(fields, str):
                    raise ContentError(fields)
                return dict(fields)

        return SourceDocument(document, self.errors.get(doc_id), self.names.get(doc_id), content)

    async def get_docs_incrementally(
        self, sync_cursor: Any, filtering: Mapping[str, Any] | None = None
    ) -> AsyncIterator[tuple[dict, Operation]]:
        for doc, operation in self.changes:
            doc = copy.deepcopy(doc)
            yield self._item(str(doc.get("_id")), doc), operation
        self.sync_cursor = {"version": (sync_cursor or {}).get("version", 0) + 1}

    async def close(self) -> None:
        self.closed = True


def make_docs(count: int, prefix: str = "doc", ts: str = "2026-01-01T00:00:00+00:00") -> dict:
    return {
        f"{prefix}-{i}": {
            "title": f"Title {i}",
            "body": f"body of {prefix} {i}",
            "n": i,
            "_timestamp": ts,
        }
        for i in range(count)
    }
