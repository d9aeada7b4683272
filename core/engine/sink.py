"""The bulk sink: concurrent workers turning queued operations into `_bulk` requests.

Operations arrive pre-serialized (NDJSON lines), so a request body is one `b"".join` and the
worker's per-document cost is a tuple in a list. Measured on the null bulk endpoint
(`make bench`), the official `async_streaming_bulk` helper spends ~35 µs per operation on
re-serializing headers and yielding each item; this sink keeps its behaviour (chunks by count
and bytes, per-item 429 retries with exponential backoff, a result for every operation)
without that cost.

Whole requests that time out, cannot connect or are answered 429/5xx are retried here, not in
the client's transport, so a stall is visible: `StallWatch` reports `Stalled` (how long,
which retry of `bulk.max_retries`) and `Resumed`. The documents of a request count as failed
only once its retries are exhausted. A request times out after `bulk.request_timeout` (60 s
by default), not the client's long general timeout, so a connection that swallows requests
without answering shows as a stall within a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import orjson
from elastic_transport import ConnectionError, ConnectionTimeout, TlsError
from elasticsearch import AsyncElasticsearch
from elasticsearch.exceptions import ApiError, TransportError

from sluice.core.engine.progress import Resumed, Stalled
from sluice.core.engine.queue import ByteBoundedQueue, InFlight
from sluice.core.engine.settings import EngineSettings
from sluice.core.retry_after import parse_retry_after

log = logging.getLogger("sluice.engine.sink")

#: One operation: (op type, document id, its NDJSON lines — header and body — with newlines,
#: a human name for the failure log or None).
BulkOp = tuple[str, str, bytes, str | None]
#: Called with (ok, bulk item, the operation's human name) for every operation.
ResultHandler = Callable[[bool, dict[str, Any], str | None], None]

#: How long a worker waits for more operations before sending a partly filled request, so a
#: slow source still sees documents land quickly while a fast one fills whole requests.
LINGER_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 60.0
_FILTER_PATH = "errors,items.*._id,items.*.status,items.*.result,items.*.error"


@dataclass(frozen=True, slots=True)
class RequestFailure:
    """Why a whole bulk request failed. `outage` marks reasons that say nothing about the
    documents (no answer, refused, overloaded): retried, and an outage when they last."""

    status: int | None
    reason: str
    outage: bool
    retry_after: float | None = None


def classify(exc: Exception) -> RequestFailure:
    """What a failed bulk request means for retrying it."""
    if isinstance(exc, TlsError):  # does not heal by waiting
        return RequestFailure(None, f"TLS error: {exc}", outage=False)
    if isinstance(exc, ConnectionTimeout):
        return RequestFailure(None, "request timed out", outage=True)
    if isinstance(exc, ConnectionError):
        return RequestFailure(None, f"cannot connect: {exc.message}", outage=True)
    if isinstance(exc, ApiError):
        status = exc.status_code
        busy = status == 429 or status >= 500
        retry_after = None
        if busy:
            retry_after = parse_retry_after(exc.meta.headers.get("retry-after"))
        return RequestFailure(
            status, f"bulk request refused: {exc.message} (HTTP {status})", busy, retry_after
        )
    return RequestFailure(None, f"bulk request failed: {type(exc).__name__}: {exc}", False)


class StallWatch:
    """Shared by the sink workers of one sync: which requests are being retried, for how long,
    and whether Elasticsearch looks down (a request gave up while none succeeded)."""

    def __init__(self, emit: Callable[[Any], Any] | None = None) -> None:
        self._emit = emit
        self._retrying: dict[object, tuple[float, int, int, str]] = {}
        self.current: Stalled | None = None
        self.last_success = 0.0
        self.outage: str | None = None  # set when a request gave up during an outage

    def retrying(self, token: object, started: float, attempt: int, of: int, why: str) -> None:
        self._retrying[token] = (started, attempt, of, why)
        self._publish()

    def succeeded(self, token: object) -> None:
        self.last_success = time.time()
        self.outage = None
        self.finished(token)

    def gave_up(self, token: object, started: float, failure: RequestFailure, tries: int) -> None:
        if failure.outage and self.last_success < started:
            self.outage = f"{failure.reason} (a bulk request failed {tries} times in a row)"
        self.finished(token, answered=False)

    def finished(self, token: object, *, answered: bool = True) -> None:
        """The request is over: answered (`Resumed` when it ends the stall), given up or
        canceled."""
        if self._retrying.pop(token, None) is not None and not self._retrying:
            stalled, self.current = self.current, None
            if answered and stalled is not None and self._emit is not None:
                self._emit(Resumed(time.time() - stalled.since))

    def _publish(self) -> None:
        entries = self._retrying.values()
        since = min(entry[0] for entry in entries)
        _, attempt, of, why = max(entries, key=lambda entry: entry[1])
        self.current = Stalled(since, attempt, of, why)
        if self._emit is not None:
            self._emit(self.current)


def index_op(index_json: bytes, doc_id: str, body: bytes, name: str | None = None) -> BulkOp:
    """An `index` operation; `index_json` is `orjson.dumps(index_name)`, computed once."""
    header = b'{"index":{"_index":%s,"_id":%s}}\n' % (index_json, orjson.dumps(doc_id))
    return ("index", doc_id, header + body + b"\n", name)


def delete_op(index_json: bytes, doc_id: str, name: str | None = None) -> BulkOp:
    return (
        "delete",
        doc_id,
        b'{"delete":{"_index":%s,"_id":%s}}\n' % (index_json, orjson.dumps(doc_id)),
        name,
    )


async def next_chunk(
    queue: ByteBoundedQueue[BulkOp],
    settings: EngineSettings,
    turn: asyncio.Lock | None = None,
    inflight: InFlight | None = None,
) -> list[BulkOp]:
    """The next request's operations; empty only when the queue is closed and drained.

    Workers build requests one at a time (`turn`), so a trickle of documents wakes one
    lingering worker instead of all of them. The request is open in `inflight` from its
    first item on (its number is `queue.taken_count - len(chunk)` once it is built).
    """
    if turn is None:
        return await _gather_chunk(queue, settings, inflight)
    async with turn:
        return await _gather_chunk(queue, settings, inflight)


async def _gather_chunk(
    queue: ByteBoundedQueue[BulkOp], settings: EngineSettings, inflight: InFlight | None
) -> list[BulkOp]:
    max_ops, max_bytes = settings.chunk_size, settings.chunk_max_mem_size
    while True:
        first = queue.taken_count
        chunk = queue.take(max_ops, max_bytes)
        if chunk:
            if inflight is not None:
                inflight.open(first)
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


def bulk_timeout(client: AsyncElasticsearch, settings: EngineSettings) -> float:
    """Seconds a bulk request may go unanswered: `bulk.request_timeout`, or the client's
    own `request_timeout` when that is shorter (a user who lowered it meant it)."""
    general = getattr(client, "_request_timeout", None)  # the client's, when it has one
    if isinstance(general, int | float) and not isinstance(general, bool) and general > 0:
        return min(float(general), settings.bulk_request_timeout)
    return settings.bulk_request_timeout


def retry_delay(settings: EngineSettings, retry: int) -> float:
    """Seconds before whole-request retry `retry` (1-based): `bulk.retry_interval`, doubling."""
    return min(settings.bulk_retry_interval * 2 ** (retry - 1), MAX_BACKOFF_SECONDS)


async def post_bulk(
    client: AsyncElasticsearch,
    body: bytes,
    params: dict[str, Any],
    settings: EngineSettings,
    stalls: StallWatch,
    timeout: float | None = None,
) -> dict[str, Any] | RequestFailure:
    """Send one `_bulk` request, retrying it whole up to `bulk_max_retries` times when
    Elasticsearch does not answer or is overloaded; the response, or why it failed.
    `timeout` is the request timeout `client` applies, named in the stall's reason."""
    token = object()
    started = time.time()
    retries = settings.bulk_max_retries
    try:
        for attempt in range(retries + 1):
            try:
                # pre-serialized NDJSON: the client sends bytes as they are (its type hints
                # know only operations as objects)
                response = await client.bulk(operations=body, **params)  # type: ignore[arg-type]
            except (ApiError, TransportError) as exc:
                failure = classify(exc)
                if isinstance(exc, ConnectionTimeout) and timeout is not None:
                    failure = replace(failure, reason=f"no answer within {timeout:g} s")
            else:
                stalls.succeeded(token)
                return response.body
            if not failure.outage or attempt >= retries:
                stalls.gave_up(token, started, failure, attempt + 1)
                return failure
            wait = failure.retry_after
            if wait is None or wait > MAX_BACKOFF_SECONDS:
                wait = retry_delay(settings, attempt + 1)
            log.warning("%s; retry %d of %d in %.1f s", failure.reason, attempt + 1, retries, wait)
            stalls.retrying(token, started, attempt + 1, retries, failure.reason)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns
    finally:
        stalls.finished(token, answered=False)  # canceled mid-wait: no longer retrying


async def send_chunk(
    client: AsyncElasticsearch,
    chunk: list[BulkOp],
    settings: EngineSettings,
    on_result: ResultHandler,
    pipeline: str | None = None,
    stalls: StallWatch | None = None,
) -> None:
    """Send one request; report every operation's outcome, retrying items refused with 429."""
    stalls = stalls or StallWatch()
    timeout = bulk_timeout(client, settings)
    # whole-request retries are ours, so they show
    sender = client.options(max_retries=0, request_timeout=timeout)
    params: dict[str, Any] = {"filter_path": _FILTER_PATH}
    if pipeline:
        params["pipeline"] = pipeline
    attempt = 0
    while chunk:
        response = await post_bulk(
            sender, b"".join(op[2] for op in chunk), params, settings, stalls, timeout
        )
        if isinstance(response, RequestFailure):
            for op_type, doc_id, _, name in chunk:
                item = {"_id": doc_id, "status": response.status, "error": response.reason}
                on_result(False, {op_type: item}, name)
            return
        items = response.get("items") or []
        if not response.get("errors"):
            for item in items:
                on_result(True, item, None)  # names are for failures only
            return
        retry: list[BulkOp] = []
        for op, item in zip(chunk, items, strict=False):
            info = next(iter(item.values()))
            status = info.get("status", 500)
            if status == 429 and attempt < settings.bulk_max_retries:
                retry.append(op)
            else:
                on_result(200 <= status < 300, item, op[3])
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
    stalls: StallWatch | None = None,
    inflight: InFlight | None = None,
) -> None:
    """Send requests until the queue is closed and drained. Workers of one queue share
    `turn`, the lock they take to build a request, `stalls` and `inflight`."""
    while chunk := await next_chunk(queue, settings, turn, inflight):
        first = queue.taken_count - len(chunk)  # no await since it was taken: still exact
        try:
            await send_chunk(client, chunk, settings, on_result, pipeline, stalls)
        finally:
            if inflight is not None:
                inflight.close(first)
