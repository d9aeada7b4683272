"""A small SMB 2/3 client over smbprotocol's `smbclient`: the calls the source makes.

Every call here blocks (smbprotocol is synchronous): the source runs them in threads. The
connection, its session and its tree connects live in a private connection cache, so two
sources never share (or close) each other's connections, and `close()` ends them all.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sluice.sources.network_drive.problems import is_transient

#: Seconds to wait for the TCP connection and the SMB negotiation.
CONNECTION_TIMEOUT = 30
#: Bytes per read request: 4 credits of 64 KiB (SMB 2.1+ charges a credit per 64 KiB).
READ_CHUNK = 256 * 1024
#: Credits to hold: every request in flight (downloads, listings) needs its own; a server
#: grants what it can.
WANTED_CREDITS = 128
#: Reparse tags of links that may point back up the tree: never followed.
_LINK_TAGS = frozenset({0xA000000C, 0xA0000003})  # IO_REPARSE_TAG_SYMLINK, _MOUNT_POINT
BACKSLASH = "\\"
_DIRECTORY = 0x10  # FILE_ATTRIBUTE_DIRECTORY
_REPARSE_POINT = 0x400  # FILE_ATTRIBUTE_REPARSE_POINT


@dataclass(frozen=True)
class SMBSettings:
    server: str
    port: int
    username: str
    password: str = field(repr=False)
    connection_timeout: int = CONNECTION_TIMEOUT


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a folder listing (FileIdFullDirectoryInformation), without the
    library's objects: a listing holds a batch of these at a time."""

    name: str
    path: str
    """The UNC path, as smbprotocol's scandir entry gives it (\\\\server\\share\\a\\b)."""
    folder: bool
    link: bool
    """A symbolic link or junction: indexed, never walked into (it may point up the tree)."""
    file_id: int
    size: int
    created: datetime
    changed: datetime


class FolderChangedError(Exception):
    """A folder re-read after a dropped connection no longer starts with what was read."""


class SMBClient:
    """One server, one user: listings and reads through a private connection cache."""

    def __init__(self, settings: SMBSettings) -> None:
        self.settings = settings
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._asked: weakref.WeakSet[Any] = weakref.WeakSet()  # connections given credits

    def unc(self, share: str, key: str = "") -> str:
        """`\\\\server\\share\\key` for a '/'-separated key under the share."""
        base = f"\\\\{self.settings.server}\\{share}"
        return f"{base}\\{key.replace('/', BACKSLASH)}" if key else base

    @property
    def _kwargs(self) -> dict[str, Any]:
        settings = self.settings
        return {
            "username": settings.username,
            "password": settings.password,
            "port": settings.port,
            "connection_timeout": settings.connection_timeout,
            "connection_cache": self._cache,
        }

    def connect(self) -> Any:
        """The session (logged on), made once and kept in the cache."""
        import smbclient

        with self._lock:
            session = smbclient.register_session(self.settings.server, **self._kwargs)
            if session.connection not in self._asked:
                self._asked.add(session.connection)
                _ask_credits(session)
            return session

    def check_share(self, share: str) -> None:
        """Connect to the share (SMB2 TREE_CONNECT) unless the session already is: raises
        the server's answer as it is (BadNetworkName, AccessDenied).

        The tree connect is left in the session, where smbclient finds and uses it: one
        disconnected here could be the one another thread is listing through."""
        from smbprotocol.tree import TreeConnect

        name = self.unc(share)
        session = self.connect()
        with self._lock:
            if any(t.share_name == name for t in list(session.tree_connect_table.values())):
                return
            TreeConnect(session, name).connect()

    def folder(self, path: str) -> FolderReader:
        return FolderReader(self, path)

    def scandir(self, path: str) -> Iterator[Any]:
        import smbclient

        self.connect()  # a lost connection is made again once, under the lock
        return iter(smbclient.scandir(path, **self._kwargs))

    def read(self, path: str, max_bytes: int) -> bytes:
        """The file's bytes, at most `max_bytes` + 1 (one more tells it grew), read
        `READ_CHUNK` at a time: one big read would take every credit of the connection and
        leave none to the listing and the other downloads."""
        import smbclient

        try:
            self.connect()
            parts: list[bytes] = []
            left = max_bytes + 1
            # others may go on reading, writing, deleting: a reader must not lock them out
            with smbclient.open_file(
                path, mode="rb", buffering=0, share_access="rwd", **self._kwargs
            ) as file:
                while left > 0:
                    part = file.read(min(READ_CHUNK, left))
                    if not part:
                        break
                    parts.append(part)
                    left -= len(part)
            return b"".join(parts)
        except Exception as exc:
            self.forget_if_broken(exc)
            raise

    def forget_if_broken(self, error: BaseException) -> None:
        """After a dropped connection or a forgotten session, close the cached connection
        so the next call logs on again."""
        if not is_transient(error):
            return
        import smbclient

        with self._lock:
            try:
                smbclient.delete_session(
                    self.settings.server, port=self.settings.port, connection_cache=self._cache
                )
            except Exception:  # already gone: the cache entry is removed all the same
                self._cache.pop(f"{self.settings.server.lower()}:{self.settings.port}", None)

    def close(self) -> None:
        import smbclient

        with self._lock:
            smbclient.reset_connection_cache(fail_on_error=False, connection_cache=self._cache)


class FolderReader:
    """One folder's entries, a batch per call (each call is one trip to a thread).

    The server sends a folder 64 KiB at a time (a few hundred entries); the listing stays
    open between batches. After a dropped connection the next call opens the folder again
    and skips what was read, checking that the last entry read is where it was: SMB has no
    resume token, and a folder that changed meanwhile must not lose or repeat entries.
    """

    def __init__(self, client: SMBClient, path: str) -> None:
        self.client = client
        self.path = path
        self.read = 0
        self._last: str | None = None
        self._entries: Iterator[Any] | None = None

    def next_batch(self, size: int) -> list[Entry]:
        """Up to `size` entries; an empty list at the end."""
        try:
            if self._entries is None:
                self._entries = self.client.scandir(self.path)
                self._skip_read()
            batch = [_entry(raw) for raw in itertools.islice(self._entries, max(1, size))]
        except Exception as exc:
            self.close()  # the next call opens the folder again
            self.client.forget_if_broken(exc)
            raise
        if batch:
            self.read += len(batch)
            self._last = batch[-1].name
        return batch

    def _skip_read(self) -> None:
        if not self.read or self._entries is None:
            return
        last = None
        skipped = 0
        for raw in itertools.islice(self._entries, self.read):
            skipped += 1
            last = raw.name
        if skipped != self.read or last != self._last:
            raise FolderChangedError(
                f"{self.path} changed while it was read again after a dropped connection"
            )

    def close(self) -> None:
        entries, self._entries = self._entries, None
        close = getattr(entries, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # a broken connection cannot close the handle: it is gone
                pass


def _ask_credits(session: Any) -> None:
    """Ask a new connection's server for `WANTED_CREDITS` credits (an SMB2 ECHO): the
    session setup leaves a few dozen, and concurrent requests without one fail at once."""
    connection = session.connection
    window = connection.sequence_window
    available = window["high"] - window["low"]
    if available >= WANTED_CREDITS:
        return
    try:
        connection.echo(sid=session.session_id, credit_request=WANTED_CREDITS - available)
    except Exception:  # a server that grants no more: a request without one is retried
        pass


def _entry(raw: Any) -> Entry:
    info = raw.smb_info
    attributes = info.file_attributes
    link = bool(attributes & _REPARSE_POINT) and info.ea_size in _LINK_TAGS
    return Entry(
        name=info.file_name,
        path=raw.path,
        folder=bool(attributes & _DIRECTORY),
        link=link,
        file_id=info.file_id,
        size=info.end_of_file,
        created=info.creation_time,
        changed=info.change_time,
    )
