"""A FAKE of Elasticsearch's create-API-key endpoint (`PUT|POST /_security/api_key`), faithful to
the public REST docs: the answer is `{id, name, api_key, encoded}` (encoded = base64 of
`id:api_key`); a caller without `manage_api_key`/`manage_own_api_key` gets 403
`security_exception`; with security off the route does not exist (400 "no handler found").
It records each request body so tests can check the role descriptors sent.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeApiKeys:
    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode  # "ok" | "forbidden" | "security_off"
        self.bodies: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeApiKeys:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return None

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("X-elastic-product", "Elasticsearch")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        fake: FakeApiKeys = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        path = self.path.split("?")[0]
        if path != "/_security/api_key" or fake.mode == "security_off":
            self._send(
                400,
                {
                    "error": f"no handler found for uri [{path}] and method [{self.command}]",
                    "status": 400,
                },
            )
            return
        fake.bodies.append(body)
        if fake.mode == "forbidden":
            reason = (
                "action [cluster:admin/xpack/security/api_key/create] is unauthorized for "
                "user [ana], this action is granted by the cluster privileges "
                "[manage_api_key,manage_own_api_key,manage_security,all]"
            )
            self._send(
                403,
                {
                    "error": {
                        "type": "security_exception",
                        "reason": reason,
                        "root_cause": [{"type": "security_exception", "reason": reason}],
                    },
                    "status": 403,
                },
            )
            return
        key_id, secret = uuid.uuid4().hex[:20], uuid.uuid4().hex
        encoded = base64.b64encode(f"{key_id}:{secret}".encode()).decode()
        self._send(
            200, {"id": key_id, "name": body.get("name"), "api_key": secret, "encoded": encoded}
        )

    do_PUT = do_POST  # the API takes both methods; the Python client sends PUT
