"""What the engine makes of a source's items, for tests that read a source directly: lazy
content loaded, and what travels beside a document put where a test can assert on it."""

from __future__ import annotations

from typing import Any

from sluice.core.engine.source import ContentError, SourceDocument, SourceFailure

#: The key under which `resolve` puts a document's error (never a field the index receives).
ERROR = "<error beside the document>"


async def resolve(item: Any) -> Any:
    """A plain document as the engine would write it (content loaded, the error under
    `ERROR`), or the `SourceFailure` as yielded."""
    if isinstance(item, SourceFailure) or not isinstance(item, SourceDocument):
        return item
    document = dict(item.document)
    error = item.error
    if item.content is not None:
        try:
            document.update(await item.content())
        except ContentError as exc:
            error = str(exc)
    if error is not None:
        document[ERROR] = error
    return document


async def resolve_all(items: Any) -> list[Any]:
    """Every item of an async iterator, resolved."""
    return [await resolve(item) async for item in items]
