"""A TCP fault proxy for HTTP/1.1: it forwards every request to the server behind it and,
when told, lets the server apply a request but throws its answer away and resets the
client's connection — the "connection reset after the server applied it" of a lost answer.

    with FaultProxy(es_url) as proxy:
        proxy.drop_answer(r"^PUT \\S+/_doc/\\S+\\?\\S*if_seq_no")  # the next conditional write
        client = build_client({**settings, "host": proxy.url})
        ...
        assert len(proxy.dropped) == 1

It runs its own event loop on a thread, so sync tests, async tests and subprocesses can all
use it. Requests are forwarded one at a time per connection (HTTP clients here never
pipeline), so a whole answer can be read before it is dropped: the server has finished the
request by then. Plain http only (the stand-in); nothing is stored on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["FaultProxy"]


@dataclass
class _Rule:
    pattern: re.Pattern[str]
    left: int


class FaultProxy:
    """Forward 127.0.0.1:<port> to `upstream`, dropping the answers `drop_answer` names."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http":
            raise ValueError(f"FaultProxy forwards plain http only, not {upstream!r}")
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.port = 0
        #: request lines seen (`PUT /index/_doc/id?if_seq_no=1 HTTP/1.1`), in order
        self.requests: list[str] = []
        #: request lines whose answers were dropped
        self.dropped: list[str] = []
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def drop_answer(self, pattern: str, times: int = 1) -> None:
        """The next `times` requests whose request line matches `pattern` (a regex, searched)
        reach the server; their answers don't reach the client, whose connection is reset."""
        with self._lock:
            self._rules.append(_Rule(re.compile(pattern), times))

    def matching(self, pattern: str) -> list[str]:
        """Request lines seen that match `pattern`."""
        regex = re.compile(pattern)
        with self._lock:
            return [line for line in self.requests if regex.search(line)]

    # ------------------------------------------------------------------ life

    def start(self) -> FaultProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    # ------------------------------------------------------------------ forwarding

    def _should_drop(self, line: str) -> bool:
        with self._lock:
            self.requests.append(line)
            for rule in self._rules:
                if rule.left > 0 and rule.pattern.search(line):
                    rule.left -= 1
                    self.dropped.append(line)
                    return True
        return False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        up_writer: asyncio.StreamWriter | None = None
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            self._writers.add(up_writer)
            while True:
                head = await _read_head(reader)
                if head is None:
                    return
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                body = await _read_body(reader, head, has_body=True)
                up_writer.write(head + body)
                await up_writer.drain()
                answer_head = await _read_head(up_reader)
                if answer_head is None:
                    return
                answer_body = await _read_body(
                    up_reader, answer_head, has_body=_answer_has_body(line, answer_head)
                )
                if self._should_drop(line):
                    _reset(writer)
                    return
                writer.write(answer_head + answer_body)
                await writer.drain()
        except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    self._writers.discard(w)
                    with contextlib.suppress(Exception):
                        w.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), as a middlebox dropping the connection does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """The request or status line and headers (with the blank line); None at a clean EOF."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    pairs = (line.split(":", 1) for line in lines if ":" in line)
    return {name.strip().lower(): value.strip() for name, value in pairs}


def _answer_has_body(request_line: str, head: bytes) -> bool:
    status = int(head.split(b" ", 2)[1])
    return not (request_line.startswith("HEAD ") or status in (204, 304) or status < 200)


async def _read_body(reader: asyncio.StreamReader, head: bytes, *, has_body: bool) -> bytes:
    """The raw body after `head` (Content-Length, chunked, or up to EOF for an answer
    without either)."""
    if not has_body:
        return b""
    headers = _headers(head)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            raw += size_line
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                    raw += trailer
                return bytes(raw + b"\r\n")
            raw += await reader.readexactly(size + 2)
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    if head.startswith(b"HTTP/"):
        return await reader.read()  # an answer delimited by closing the connection
    return b""
