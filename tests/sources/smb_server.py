"""The Samba share of `scripts/services.sh`, for the network drive tests.

`SLUICE_SMB_URL` (smb://user:password@127.0.0.1:PORT/share) names the server and the share;
`SLUICE_SMB_ROOT` is the share's folder on this machine. Each test gets a folder of its own
inside the share, written directly on disk (as the share's files would be by anyone) and
removed afterwards; the source reads it through SMB.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from tests.conftest import service_url

#: The share the test user may not open (valid users = someone else), from services.sh.
PRIVATE_SHARE = "sluice-private"


@dataclass(frozen=True)
class SMBServer:
    host: str
    port: int
    user: str
    password: str
    share: str
    root: Path
    """The share's folder on this machine."""

    def config(self, drive_path: str, **overrides: Any) -> dict[str, Any]:
        config: dict[str, Any] = {
            "username": self.user,
            "password": self.password,
            "server_ip": self.host,
            "server_port": self.port,
            "drive_path": drive_path,
        }
        config.update(overrides)
        return config


@dataclass(frozen=True)
class Folder:
    """A test's own folder in the share."""

    server: SMBServer
    name: str

    @property
    def disk(self) -> Path:
        return self.server.root / self.name

    @property
    def drive_path(self) -> str:
        return f"{self.server.share}/{self.name}"

    def config(self, **overrides: Any) -> dict[str, Any]:
        return self.server.config(self.drive_path) | overrides

    def write(self, relative: str, data: str | bytes) -> Path:
        path = self.disk / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def unc(self, relative: str = "") -> str:
        """The UNC path smbprotocol gives the entry (what Elastic's `path` field holds)."""
        tail = "\\" + relative.replace("/", "\\") if relative else ""
        return f"\\\\{self.server.host}\\{self.server.share}\\{self.name}{tail}"

    def many(self, relative: str, count: int) -> None:
        """`count` small files in one folder, written in parallel."""
        folder = self.disk / relative
        folder.mkdir(parents=True, exist_ok=True)

        def write(start: int) -> None:
            for number in range(start, min(start + 1000, count)):
                (folder / f"f{number:06d}.txt").write_bytes(b"x")

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(write, range(0, count, 1000)))


def smb_server() -> SMBServer | None:
    url = service_url("SLUICE_SMB_URL", "")
    root = service_url("SLUICE_SMB_ROOT", "")
    if not url or not root:
        return None
    parts = urlparse(url)
    return SMBServer(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 445,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        share=parts.path.strip("/"),
        root=Path(root),
    )


# Fixtures are named by `name=`: test modules import the functions without shadowing the
# argument names (ruff's F811).
@pytest.fixture(scope="session", name="smb")
def smb_fixture() -> SMBServer:
    server = smb_server()
    if server is None:
        pytest.skip("SLUICE_SMB_URL / SLUICE_SMB_ROOT not set: run scripts/services.sh up")
    if not server.root.is_dir():
        pytest.skip(f"SLUICE_SMB_ROOT {server.root} is not a folder on this machine")
    return server


@pytest.fixture(name="smb_folder")
def smb_folder_fixture(smb: SMBServer) -> Iterator[Folder]:
    folder = Folder(smb, f"sluice-test-{uuid.uuid4().hex[:10]}")
    folder.disk.mkdir(mode=0o755)
    os.chmod(folder.disk, 0o755)  # listable by the share's user whatever the umask
    try:
        yield folder
    finally:
        for path, dirs, _files in os.walk(folder.disk):
            for name in dirs:
                os.chmod(os.path.join(path, name), 0o755)  # a locked folder can go too
        shutil.rmtree(folder.disk, ignore_errors=True)


def lock(path: Path) -> None:
    """No permission for anyone but root (the share's user is not root)."""
    os.chmod(path, 0o000)


@dataclass
class ClosingServer:
    """A TCP port that takes a request and hangs up (a server that does not speak SMB 2/3)."""

    port: int
    _socket: socket.socket
    _stop: threading.Event

    def close(self) -> None:
        self._stop.set()
        self._socket.close()


@pytest.fixture(name="closing_server")
def closing_server_fixture() -> Iterator[ClosingServer]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:  # read the SMB2 NEGOTIATE, answer nothing, hang up
                connection.settimeout(5)
                try:
                    connection.recv(4096)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    server = ClosingServer(listener.getsockname()[1], listener, stop)
    try:
        yield server
    finally:
        server.close()
        thread.join(timeout=5)
