"""A fake `_bulk` endpoint that pushes back like a busy Elasticsearch node.

noida-db never rejects work, so the engine's handling of rejections can't be seen there. This
fake answers `_bulk` (PUT or POST) with the documented response shape
(https://www.elastic.co/guide/en/elasticsearch/reference/8.15/docs-bulk.html): the first
`reject_first` attempts at each document get item status 429
(`es_rejected_execution_exception`), later ones 201 `created`; with `fail_all` every request
gets HTTP 503 instead. Whole-request trouble of a loaded node: the first `stall_requests`
requests get no answer for `stall_seconds` (past the client's timeout), the next
`unavailable_requests` get HTTP 503; later requests are served.
`GET _ingest/pipeline/<id>` answers `pipeline_status`: 404, 200, or 403 as for a key without
the `read_pipeline` privilege. Other calls the engine makes answer as an empty cluster would.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeBulkRejections:
    def __init__(
        self,
        reject_first: int = 1,
        fail_all: bool = False,
        pipeline_status: int = 404,
        *,
        stall_requests: int = 0,
        stall_seconds: float = 1.0,
        unavailable_requests: int = 0,
    ) -> None:
        self.reject_first = reject_first
        self.fail_all = fail_all
        self.stall_requests = stall_requests
        self.stall_seconds = stall_seconds
        self.unavailable_requests = unavailable_requests
        self._lock = threading.Lock()
        self.pipeline_status = pipeline_status  # answer to GET _ingest/pipeline/<id>
        self.bulk_paths: list[str] = []
        self.attempts: Counter[str] = Counter()
        self.requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeBulkRejections:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def bulk(self, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            number = self.requests
        unavailable = {"error": {"type": "unavailable", "reason": "node is shutting down"}}
        if number <= self.stall_requests:
            time.sleep(self.stall_seconds)  # the client has given up by now
            return 503, unavailable
        if self.fail_all or number <= self.stall_requests + self.unavailable_requests:
            return 503, unavailable
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        items, errors, i = [], False, 0
        while i < len(lines):
            (op, meta), i = next(iter(lines[i].items())), i + 1
            if op != "delete":
                i += 1
            doc_id = meta["_id"]
            self.attempts[doc_id] += 1
            if self.attempts[doc_id] <= self.reject_first:
                errors = True
                item = {
                    "_index": meta["_index"],
                    "_id": doc_id,
                    "status": 429,
                    "error": {
                        "type": "es_rejected_execution_exception",
                        "reason": "rejected execution of coordinating operation",
                    },
                }
            else:
                item = {"_index": meta["_index"], "_id": doc_id, "status": 201, "result": "created"}
            items.append({op: item})
        return 200, {"took": 1, "errors": errors, "items": items}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any] | None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(data)))
                # a client that timed out has closed the connection
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)

            def do_HEAD(self) -> None:
                self._reply(200, None)

            def do_GET(self) -> None:
                if self.path.startswith("/_ingest/pipeline/") and fake.pipeline_status == 403:
                    error = {
                        "type": "security_exception",
                        "reason": "action [cluster:admin/ingest/pipeline/get] is unauthorized",
                    }
                    self._reply(403, {"error": error, "status": 403})
                elif self.path.startswith("/_ingest/pipeline/") and fake.pipeline_status == 200:
                    name = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
                    self._reply(200, {name: {"processors": []}})
                else:
                    self._reply(404, {"error": "not found", "status": 404})

            def do_PUT(self) -> None:  # the 8.x client sends _bulk as PUT
                if self.path.split("?", 1)[0].endswith("/_bulk"):
                    fake.bulk_paths.append(self.path)
                    self._reply(*fake.bulk(self._read()))
                    return
                self._read()
                self._reply(200, {"acknowledged": True})

            def do_DELETE(self) -> None:
                self._read()
                self._reply(200, {"succeeded": True})

            def do_POST(self) -> None:
                body = self._read()
                path = self.path.split("?", 1)[0]
                if path.endswith("/_bulk"):
                    self._reply(*fake.bulk(body))
                elif path.endswith("/_pit"):
                    self._reply(200, {"id": "fake-pit"})
                elif path.endswith("/_search"):
                    self._reply(200, {"pit_id": "fake-pit", "hits": {"hits": []}})
                elif path.endswith("/_count"):
                    self._reply(200, {"count": 0})
                else:
                    self._reply(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})

            def _read(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

        return Handler
