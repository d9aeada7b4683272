"""Test helpers for the sources: server URLs, free ports, certificates, a fake TLS endpoint
that answers PostgreSQL's and MySQL's TLS upgrade like a real server would, and running code
as an unprivileged user."""

from __future__ import annotations

import socket
import ssl
import struct
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str
    database: str


def parse_url(url: str) -> Server:
    parts = urlparse(url)
    return Server(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 0,
        user=parts.username or "",
        password=parts.password or "",
        database=(parts.path or "/").lstrip("/"),
    )


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Certificates:
    ca_pem: str
    server_cert: Path
    server_key: Path


def make_certificates(directory: Path, name: str, server_name: str = "127.0.0.1") -> Certificates:
    """A CA and a server certificate it signs (openssl CLI), for `server_name`."""
    ca_key, ca_cert = directory / f"{name}-ca.key", directory / f"{name}-ca.pem"
    key, csr, cert = directory / f"{name}.key", directory / f"{name}.csr", directory / f"{name}.pem"
    run = lambda *args: subprocess.run(args, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", f"/CN={name} test CA", "-keyout", str(ca_key), "-out", str(ca_cert))  # fmt: skip
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={server_name}",
        "-keyout", str(key), "-out", str(csr))  # fmt: skip
    san = directory / f"{name}.ext"
    kind = "IP" if server_name.replace(".", "").isdigit() else "DNS"
    san.write_text(f"subjectAltName={kind}:{server_name}\n")
    run("openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "2", "-extfile", str(san), "-out", str(cert))  # fmt: skip
    return Certificates(ca_cert.read_text(), cert, key)


class FakeTLSServer:
    """A FAKE database endpoint: it performs only the TLS upgrade of PostgreSQL (reply 'S' to
    an SSLRequest) or MySQL (a handshake greeting offering CLIENT_SSL, then the client's
    SSL request packet), then the TLS handshake with the given certificate, then closes.
    Enough to test certificate verification, which the local servers (no TLS) cannot."""

    def __init__(self, protocol: str, certificates: Certificates) -> None:
        self.protocol = protocol
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certificates.server_cert, certificates.server_key)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FakeTLSServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.listener.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                try:
                    self._upgrade(connection)
                except (OSError, ssl.SSLError):
                    pass

    def _upgrade(self, connection: socket.socket) -> None:
        if self.protocol == "postgresql":
            request = _read_exactly(connection, 8)
            length, code = struct.unpack("!ii", request)
            if (length, code) != (8, 80877103):
                return
            connection.sendall(b"S")
        else:
            connection.sendall(_mysql_greeting())
            header = _read_exactly(connection, 4)
            _read_exactly(connection, int.from_bytes(header[:3], "little"))
        with self.context.wrap_socket(connection, server_side=True) as tls:
            tls.recv(1)


def _read_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


def _mysql_greeting() -> bytes:
    """Protocol::HandshakeV10 offering TLS (CLIENT_SSL) and native-password auth."""
    capabilities = (
        0x1 | 0x8 | 0x200 | 0x800 | 0x8000 | 0x80000
    )  # long pw, db, 4.1, ssl, secure, plugin
    payload = (
        b"\x0a"
        + b"10.11.99-MariaDB-fake\x00"
        + struct.pack("<I", 7)
        + b"abcdefgh\x00"
        + struct.pack("<H", capabilities & 0xFFFF)
        + b"\x21"
        + struct.pack("<H", 2)
        + struct.pack("<H", capabilities >> 16)
        + b"\x15"
        + b"\x00" * 10
        + b"ijklmnopqrst\x00"
        + b"mysql_native_password\x00"
    )
    return len(payload).to_bytes(3, "little") + b"\x00" + payload


def run_as_nobody(work: Callable[[], Any]) -> Any:
    """`work()` in a child process switched to the `nobody` user (tests run as root, who
    can list and read everything), its JSON result brought back; a crash is re-raised here
    as an AssertionError with the child's exception."""
    import json
    import os
    import pwd

    nobody = pwd.getpwnam("nobody")
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.close(read_end)
        try:
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            payload = json.dumps({"result": work()}).encode()
        except BaseException as exc:
            payload = json.dumps({"crash": repr(exc)}).encode()
        os.write(write_end, payload)
        os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(child, 0)
    seen = json.loads(b"".join(chunks))
    assert "crash" not in seen, seen["crash"]
    return seen["result"]
