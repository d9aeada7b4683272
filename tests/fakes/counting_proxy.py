"""A TCP proxy in front of a real server that counts the connections clients open.

How many clients (connection pools) a piece of code builds is seen from outside, on the
wire: each new client opens its own connection, one client reuses its keep-alive one. Runs
in threads, so it serves any event loop (a test's, Textual's)."""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit


class CountingProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 9200)
        self.scheme = parts.scheme or "http"
        self.accepted = 0  # connections opened so far
        self.open = 0  # connections open now
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._closed = threading.Event()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.getsockname()[1]}"

    def __enter__(self) -> CountingProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closed.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                downstream, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            with self._lock:
                self.accepted += 1
                self.open += 1
            threading.Thread(target=self._serve, args=(downstream, upstream), daemon=True).start()

    def _serve(self, downstream: socket.socket, upstream: socket.socket) -> None:
        back = threading.Thread(target=self._pump, args=(upstream, downstream), daemon=True)
        back.start()
        self._pump(downstream, upstream)
        back.join()
        for sock in (downstream, upstream):
            sock.close()
        with self._lock:
            self.open -= 1

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)
