"""The bulk sink: concurrent workers, each streaming queued operations through the official
client's bulk helper (chunking by count and bytes, 429 retries with backoff)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import BULK_FLUSH, async_streaming_bulk

from core.engine.queue import ByteBoundedQueue
from core.engine.settings import EngineSettings

#: A bulk operation ready to send: the action header and the pre-serialized body (or None).
BulkOp = tuple[dict[str, Any], bytes | None]
ResultHandler = Callable[[bool, dict[str, Any]], None]

_IDLE_FLUSH_SECONDS = 0.5


def _identity(op: BulkOp) -> BulkOp:
    return op


async def _drain(queue: ByteBoundedQueue[BulkOp]) -> AsyncIterator[Any]:
    """Operations from the queue until it is closed and empty. When the queue stays idle,
    ask the helper to send what it holds, so a slow source still sees documents land."""
    while True:
        op = queue.get_nowait()
        if op is not None:
            yield op
            continue
        if queue.closed:
            return
        if not await queue.wait_not_empty(_IDLE_FLUSH_SECONDS):
            yield BULK_FLUSH


async def run_sink_worker(
    client: AsyncElasticsearch,
    queue: ByteBoundedQueue[BulkOp],
    settings: EngineSettings,
    on_result: ResultHandler,
    pipeline: str | None = None,
) -> None:
    """Send operations until the queue is closed and drained; report every item's outcome."""
    kwargs: dict[str, Any] = {}
    if pipeline:
        kwargs["pipeline"] = pipeline
    async for ok, info in async_streaming_bulk(
        client,
        _drain(queue),
        chunk_size=settings.chunk_size,
        max_chunk_bytes=settings.chunk_max_mem_size,
        expand_action_callback=_identity,
        raise_on_error=False,
        raise_on_exception=False,
        max_retries=settings.bulk_max_retries,
        initial_backoff=settings.bulk_initial_backoff,
        yield_ok=True,
        **kwargs,
    ):
        on_result(ok, info)
