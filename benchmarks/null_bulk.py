"""A null bulk endpoint: a tiny HTTP server that answers the calls a sync makes, fast.

`_bulk` gets a correct per-item success response (`created`, or `deleted` for deletes), so
the figures measure Sluice rather than a server. It can also pretend the index already holds
`existing` documents (ids `doc-0`..), listed through point-in-time searches, for the
stale-deletion memory benchmark. Not a fake of Elasticsearch for tests: only for `make bench`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
from typing import Any

import orjson

PRODUCT = b"X-Elastic-Product: Elasticsearch\r\n"


def _response(status: int, body: Any) -> bytes:
    payload = body if isinstance(body, bytes) else orjson.dumps(body)
    reason = {200: b"OK", 404: b"Not Found"}.get(status, b"OK")
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n"
        % (status, reason, PRODUCT, len(payload))
        + payload
    )


def bulk_response(body: bytes) -> bytes:
    """Per-item success for every action line of an NDJSON bulk body."""
    items = []
    lines = body.split(b"\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        action = orjson.loads(line)
        op, meta = next(iter(action.items()))
        if op == "delete":
            items.append({op: {"_id": meta.get("_id"), "status": 200, "result": "deleted"}})
        else:
            i += 1  # the source line
            items.append({op: {"_id": meta.get("_id"), "status": 201, "result": "created"}})
    return orjson.dumps({"took": 1, "errors": False, "items": items})


class NullServer:
    def __init__(self, existing: int = 0) -> None:
        self.existing = existing

    def search_page(self, body: bytes) -> bytes:
        request = orjson.loads(body) if body else {}
        size = int(request.get("size", 10))
        after = request.get("search_after")
        start = int(after[0]) + 1 if after else 0
        end = min(start + size, self.existing)
        hits = [{"_id": f"doc-{n}", "sort": [n]} for n in range(start, end)]
        return orjson.dumps({"pit_id": "null-pit", "hits": {"hits": hits}})

    def answer(self, method: str, path: str, body: bytes) -> bytes:
        route = path.split("?", 1)[0]
        if route.endswith("/_bulk") or route == "/_bulk":
            return _response(200, bulk_response(body))
        if route.endswith("/_pit") and method == "POST":
            return _response(200, {"id": "null-pit"})
        if route == "/_pit" and method == "DELETE":
            return _response(200, {"succeeded": True, "num_freed": 1})
        if route.endswith("/_search"):
            return _response(200, self.search_page(body))
        if route.endswith("/_count"):
            return _response(200, {"count": self.existing})
        if route.endswith("/_refresh"):
            return _response(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})
        if route.startswith("/_ingest/pipeline"):
            return _response(404, {})
        if route == "/":
            return _response(200, {"version": {"number": "8.15.0"}, "tagline": "null"})
        if method == "HEAD":
            return _response(200, b"")
        return _response(200, {"acknowledged": True})

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    if line[:15].lower() == "content-length:":
                        length = int(line[15:].strip())
                body = await reader.readexactly(length) if length else b""
                reply = self.answer(method, path, body)
                if method == "HEAD":
                    reply = reply.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _serve(sock: socket.socket, existing: int) -> None:
    async def main() -> None:
        server = await asyncio.start_server(NullServer(existing).handle, sock=sock)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class NullBulkEndpoint:
    """Runs the server in its own process (so it doesn't share the engine's CPU)."""

    def __init__(self, existing: int = 0) -> None:
        self.existing = existing
        self._process: multiprocessing.Process | None = None
        self.url = ""

    def __enter__(self) -> NullBulkEndpoint:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        context = multiprocessing.get_context("fork")
        self._process = context.Process(target=_serve, args=(sock, self.existing), daemon=True)
        self._process.start()
        sock.close()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(5)
