"""The bulk sink: concurrent workers turning queued operations into `_bulk` requests.

Operations arrive pre-serialized (NDJSON lines), so a request body is one `b"".join` and the
worker's per-document cost is a tuple in a list. Measured on the null bulk endpoint
(`make bench`), the official `async_streaming_bulk` helper spends ~35 µs per operation on
re-serializing headers and yielding each item; this sink keeps its behaviour (chunks by count
and bytes, per-item 429 retries with exponential backoff, a result for every operation)
without that cost. Whole-request retries (429/5xx/timeouts, `Retry-After`) stay in the
client's transport.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
from elasticsearch import AsyncElasticsearch
from elasticsearch.exceptions import ApiError, TransportError

from core.engine.queue import ByteBoundedQueue
from core.engine.settings import EngineSettings

#: One operation: (op type, document id, its NDJSON lines — header and body — with newlines).
BulkOp = tuple[str, str, bytes]
ResultHandler = Callable[[bool, dict[str, Any]], None]

#: How long a worker waits for more operations before sending a partly filled request, so a
#: slow source still sees documents land quickly while a fast one fills whole requests.
LINGER_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 60.0
_FILTER_PATH = "errors,items.*._id,items.*.status,items.*.result,items.*.error"


def index_op(index_json: bytes, doc_id: str, body: bytes) -> BulkOp:
    """An `index` operation; `index_json` is `orjson.dumps(index_name)`, computed once."""
    header = b'{"index":{"_index":%s,"_id":%s}}\n' % (index_json, orjson.dumps(doc_id))
    return ("index", doc_id, header + body + b"\n")


def delete_op(index_json: bytes, doc_id: str) -> BulkOp:
    return (
        "delete",
        doc_id,
        b'{"delete":{"_index":%s,"_id":%s}}\n' % (index_json, orjson.dumps(doc_id)),
    )


async def next_chunk(
    queue: ByteBoundedQueue[BulkOp], settings: EngineSettings, turn: asyncio.Lock | None = None
) -> list[BulkOp]:
    """The next request's operations; empty only when the queue is closed and drained.

    Workers build requests one at a time (`turn`), so a trickle of documents wakes one
    lingering worker instead of all of them.
    """
    if turn is None:
        return await _gather_chunk(queue, settings)
    async with turn:
        return await _gather_chunk(queue, settings)


async def _gather_chunk(queue: ByteBoundedQueue[BulkOp], settings: EngineSettings) -> list[BulkOp]:
    max_ops, max_bytes = settings.chunk_size, settings.chunk_max_mem_size
    while True:
        chunk = queue.take(max_ops, max_bytes)
        if chunk:
            break
        if queue.closed:
            return []
        await queue.wait_not_empty()
    if len(chunk) < max_ops and not queue.closed:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LINGER_SECONDS
        size = sum(len(op[2]) for op in chunk)
        while len(chunk) < max_ops and size < max_bytes and not queue.closed:
            remaining = deadline - loop.time()
            if remaining <= 0 or not await queue.wait_not_empty(remaining):
                break
            more = queue.take(max_ops - len(chunk), max_bytes - size)
            if not more:
                if len(queue):  # the next operation alone would overflow this request
                    break
                continue  # another worker took it first: keep lingering

            chunk += more
            size += sum(len(op[2]) for op in more)
    return chunk


def _describe(exc: Exception) -> tuple[int | None, str]:
    status = getattr(exc, "status_code", None)
    if isinstance(exc, ApiError):
        return status, f"bulk request refused: {exc.message} (HTTP {status})"
    return status, f"bulk request failed: {type(exc).__name__}: {exc}"


async def send_chunk(
    client: AsyncElasticsearch,
    chunk: list[BulkOp],
    settings: EngineSettings,
    on_result: ResultHandler,
    pipeline: str | None = None,
) -> None:
    """Send one request; report every operation's outcome, retrying items refused with 429."""
    attempt = 0
    while chunk:
        kwargs: dict[str, Any] = {"filter_path": _FILTER_PATH}
        if pipeline:
            kwargs["pipeline"] = pipeline
        try:
            response = await client.bulk(operations=b"".join(op[2] for op in chunk), **kwargs)
        except (ApiError, TransportError) as exc:  # the transport already retried it
            status, reason = _describe(exc)
            for op_type, doc_id, _ in chunk:
                on_result(False, {op_type: {"_id": doc_id, "status": status, "error": reason}})
            return
        items = response.get("items") or []
        if not response.get("errors"):
            for item in items:
                on_result(True, item)
            return
        retry: list[BulkOp] = []
        for op, item in zip(chunk, items, strict=False):
            info = next(iter(item.values()))
            status = info.get("status", 500)
            if status == 429 and attempt < settings.bulk_max_retries:
                retry.append(op)
            else:
                on_result(200 <= status < 300, item)
        if retry:
            delay = min(settings.bulk_initial_backoff * 2**attempt, MAX_BACKOFF_SECONDS)
            await asyncio.sleep(delay)
            attempt += 1
        chunk = retry


async def run_sink_worker(
    client: AsyncElasticsearch,
    queue: ByteBoundedQueue[BulkOp],
    settings: EngineSettings,
    on_result: ResultHandler,
    pipeline: str | None = None,
    turn: asyncio.Lock | None = None,
) -> None:
    """Send requests until the queue is closed and drained. Workers of one queue share
    `turn`, the lock they take to build a request."""
    while chunk := await next_chunk(queue, settings, turn):
        await send_chunk(client, chunk, settings, on_result, pipeline)
