"""Syncs of the file-tree sources through the engine, for their engine tests: one sync, and
what the index then holds, keyed as each test reads it best."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sluice.core.engine.engine import SyncEngine, SyncRequest, SyncResult
from sluice.sources.filetree.source import FileTreeSource

S = TypeVar("S", bound=FileTreeSource)


async def sync(
    es: Any,
    index: str,
    source_class: type[S],
    config: dict[str, Any],
    *,
    incremental: bool = False,
) -> tuple[SyncResult, S]:
    """One sync of `config` into `index`; the source comes back for its counters."""
    source = source_class(config)
    try:
        request = SyncRequest(index_name=index, incremental=incremental)
        return await SyncEngine(es).run(source, request), source
    finally:
        await source.close()


async def indexed(
    es: Any, index: str, key: Callable[[dict[str, Any]], str]
) -> dict[str, dict[str, Any]]:
    """The index's documents by `key(document)`, each with its `_id` (checked to equal the
    `id` field Elastic's framework writes)."""
    await es.indices.refresh(index=index)
    response = await es.search(index=index, size=1000, query={"match_all": {}})
    docs = {}
    for hit in response["hits"]["hits"]:
        document = hit["_source"]
        assert hit["_id"] == document["id"]
        document["_id"] = hit["_id"]
        docs[key(document)] = document
    return docs
