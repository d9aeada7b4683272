"""The `network_drive` source: files and folders of an SMB 2/3 share (Windows, Samba, NAS)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from functools import partial
from typing import Any

from sluice.sources.base import ContentError, Document
from sluice.sources.errors import (
    ConfigurationError,
    SourceError,
)
from sluice.sources.filetree.retries import retrying
from sluice.sources.filetree.schema import text_extraction_service_field, tree_fields
from sluice.sources.filetree.source import FileTreeSource, Unlisted
from sluice.sources.filetree.tree import RemoteFile, Root, iso_utc, parse_roots
from sluice.sources.network_drive import problems
from sluice.sources.network_drive.client import (
    Entry,
    FolderChangedError,
    SMBClient,
    SMBSettings,
)

WINDOWS = "windows"
LINUX = "linux"
DEFAULT_PORT = 445
#: Folder entries fetched per trip to a thread (the server sends a few hundred per answer).
LISTING_BATCH = 500

_DLS_TOOLTIP = (
    "Document level security ensures identities and permissions set in your network drive "
    "are mirrored in Elasticsearch. This enables you to restrict and personalize read-access "
    "users and groups have to documents in this index. Access control syncs ensure this "
    "metadata is kept up to date in your Elasticsearch documents. Sluice does not apply "
    "document level security: with this on, let Elastic's connector service run the "
    "connector."
)


class NetworkDriveSource(FileTreeSource):
    """Files and folders of one SMB share (or one folder of it), with their text."""

    service_type = "network_drive"
    display_name = "Network Drive"
    description = "Files and folders of an SMB 2/3 file share (Windows, Samba, NAS), with text."
    prerequisites = [
        "An account the share accepts, with read access: on Windows, the share permission "
        "Read and the NTFS permissions 'Read & execute' and 'List folder contents' on the "
        "folders to index; on Samba, a valid user of the share ('valid users'), "
        "'read only = yes' is enough, and Unix read (and, for folders, execute) permission "
        "for that user.",
        "The server speaks SMB 2 or 3 (SMB1 is not supported).",
        "TCP port 445 of the server (or the port it listens on) reachable from this machine.",
        "'SMB path' is the share's name, optionally followed by a folder in it: share or "
        "share/folder/subfolder (without the server and without a leading slash).",
    ]
    roots_key = "drive_path"
    root_kind = "share"

    @classmethod
    def get_default_configuration(cls) -> dict[str, dict[str, Any]]:
        return {
            # Elastic's keys, order, types and defaults (connectors/sources/network_drive)
            "username": {"label": "Username", "order": 1, "type": "str"},
            "password": {"label": "Password", "order": 2, "sensitive": True, "type": "str"},
            "server_ip": {
                "label": "SMB IP",
                "order": 3,
                "type": "str",
                "tooltip": "The server's IP address or host name.",
            },
            "server_port": {
                "display": "numeric",
                "label": "SMB port",
                "order": 4,
                "type": "int",
                "tooltip": "445 unless the server listens on another port.",
            },
            "drive_path": {
                "label": "SMB path",
                "order": 5,
                "type": "str",
                "tooltip": "The share, optionally with a folder in it: share or "
                "share/folder (no server, no leading slash).",
            },
            "use_document_level_security": {
                "display": "toggle",
                "label": "Enable document level security",
                "order": 6,
                "tooltip": _DLS_TOOLTIP,
                "type": "bool",
                "value": False,
            },
            "drive_type": {
                "display": "dropdown",
                "label": "Drive type",
                "depends_on": [{"field": "use_document_level_security", "value": True}],
                "options": [
                    {"label": "Windows", "value": WINDOWS},
                    {"label": "Linux", "value": LINUX},
                ],
                "order": 7,
                "type": "str",
                "ui_restrictions": ["advanced"],
                "value": WINDOWS,
            },
            "identity_mappings": {
                "label": "Path of CSV file containing users and groups SID "
                "(For Linux Network Drive)",
                "depends_on": [
                    {"field": "use_document_level_security", "value": True},
                    {"field": "drive_type", "value": LINUX},
                ],
                "order": 8,
                "type": "str",
                "required": False,
                "ui_restrictions": ["advanced"],
            },
            "use_text_extraction_service": text_extraction_service_field(9),
            # Sluice's
            **tree_fields(10),
        }

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        super().__init__(configuration)
        values = self.values
        self.drive_path = str(values.get("drive_path") or "").strip()
        # "share\folder" is how Windows users write it: the same root as "share/folder"
        self.roots, self.every_root = parse_roots(self.drive_path.replace("\\", "/"))
        self.server = str(values.get("server_ip") or "").strip()
        port = values.get("server_port")
        self.port = port if isinstance(port, int) and not isinstance(port, bool) else DEFAULT_PORT
        self.client = SMBClient(
            SMBSettings(
                server=self.server,
                port=self.port,
                username=str(values.get("username") or "").strip(),
                password=str(values.get("password") or ""),
            )
        )
        self.listing_batch = LISTING_BATCH

    # ------------------------------------------------------------ checks

    def check_values(self) -> dict[str, str]:
        errors = super().check_values()
        errors.pop("drive_path", None)
        if self.values.get("use_document_level_security"):
            errors["use_document_level_security"] = (
                "'Enable document level security': Sluice does not apply document level "
                "security. Turn it off, or let Elastic's connector service run this connector."
            )
        if self.drive_path.startswith(("\\\\", "//")):
            errors["drive_path"] = (
                f"'SMB path': {self.drive_path!r} names the server; give only the share and "
                "folder (share or share/folder) and the server in 'SMB IP'."
            )
        elif self.every_root:
            errors["drive_path"] = (
                "'SMB path': name one share (share or share/folder); Sluice cannot list a "
                "server's shares, so * is not accepted."
            )
        elif not self.roots:
            errors["drive_path"] = "'SMB path': give the share's name (share or share/folder)."
        if self.server.startswith(("\\", "/", "smb:")):
            errors["server_ip"] = (
                f"'SMB IP': {self.server!r} is not a host: give the server's IP address or "
                "host name alone (like 192.168.1.20 or files.example.com)."
            )
        if not 0 < self.port < 65536:
            errors["server_port"] = f"'SMB port': {self.port} is not a TCP port (1 to 65535)."
        return errors

    async def ping(self) -> None:
        """Connect and log on (SMB2 NEGOTIATE and SESSION_SETUP)."""
        try:
            await asyncio.to_thread(self.client.connect)
        except Exception as exc:
            raise self._problem(exc) from None

    async def list_root_names(self) -> list[str]:
        raise ConfigurationError(
            {"drive_path": "'SMB path': name one share; * is not accepted for a network drive."}
        )

    async def check_root(self, root: Root) -> None:
        """The share opens and the configured folder lists."""
        await self._check_share(root)
        reader = self.client.folder(self.client.unc(root.name, root.prefix))
        try:
            await asyncio.to_thread(reader.next_batch, 1)
        except Exception as exc:
            raise self._folder_problem(root, exc) from None
        finally:
            await asyncio.to_thread(reader.close)

    async def _check_share(self, root: Root) -> None:
        try:
            await asyncio.to_thread(self.client.check_share, root.name)
        except Exception as exc:
            found = problems.share_problem(exc, self.server, root.name)
            raise (found or self._problem(exc)) from None

    def _problem(self, error: BaseException) -> SourceError:
        found = problems.connection_problem(error, self.server, self.port)
        if found is not None:
            return found
        return SourceError(
            f"{self.server}:{self.port} answered: {problems.describe(error)}.",
            "Check 'SMB IP', 'SMB port', the credentials and 'SMB path'.",
        )

    def _folder_problem(self, root: Root, error: BaseException) -> SourceError:
        shown = str(root)
        unc = self.client.unc(root.name, root.prefix)
        found = problems.folder_problem(error, unc, shown)
        return found or self._problem(error)

    # ------------------------------------------------------------ the share

    async def list_files(self, root: Root) -> AsyncIterator[RemoteFile | Unlisted]:
        """Depth first, as Elastic's connector walks a share: one listing per folder, read a
        batch at a time; folders are documents too."""
        await self._check_share(root)
        stack = [root.prefix]
        while stack:
            folder = stack.pop()
            reader = self.client.folder(self.client.unc(root.name, folder))
            try:
                while True:
                    try:
                        batch = await retrying(
                            partial(asyncio.to_thread, reader.next_batch, self.listing_batch),
                            attempts=self.attempts,
                            transient=self.is_transient,
                            what=f"listing {root.name}/{folder}",
                        )
                    except Exception as exc:
                        unlisted = self._listing_failure(root, folder, reader.read, exc)
                        if unlisted is not None:
                            yield unlisted
                        break
                    if not batch:
                        break
                    for entry in batch:
                        key = f"{folder}/{entry.name}" if folder else entry.name
                        if entry.folder and not entry.link:
                            stack.append(key)
                        yield _remote_file(key, entry)
            finally:
                await asyncio.to_thread(reader.close)

    def _listing_failure(
        self, root: Root, folder: str, read: int, error: BaseException
    ) -> Unlisted | None:
        """What a folder that could not be listed means: the configured folder raises (the
        sync fails, deleting nothing); a folder under it the user may not list is an
        `Unlisted` part (its documents are kept); one deleted since its parent was listed is
        skipped; anything else raises."""
        if folder == root.prefix:
            raise self._folder_problem(root, error) from None
        where = f"{root.name}/{folder}"
        status = problems.status_of(error)
        if status == problems.STATUS_ACCESS_DENIED:
            return Unlisted(
                f"{folder}/",
                "the user may not list this folder (access denied): grant it 'List folder "
                "contents' to index what is in it",
            )
        if status in problems.NOT_FOUND and read == 0:
            self.logger.info("%s was deleted while the share was read; skipped.", where)
            return None
        if isinstance(error, FolderChangedError):
            raise SourceError(
                f"The connection to {self.server} dropped while {where} was read, and the "
                "folder changed before it could be read again.",
                "Run the sync again.",
            ) from None
        if problems.socket_error(error) is not None:  # could not connect again
            raise self._problem(error) from None
        raise SourceError(
            f"Listing {where} failed: {problems.describe(error)}.",
            "Check the connection to the server and run the sync again.",
        ) from None

    def document(self, root: Root, file: RemoteFile) -> Document:
        """Elastic's network drive document: `_id` is the SMB file id (FileId of the
        directory entry), `_timestamp` the change time."""
        entry: Entry = file.raw
        doc_id = str(entry.file_id)
        return {
            "_id": doc_id,
            "id": doc_id,
            "path": entry.path,
            "size": entry.size,
            "created_at": iso_utc(entry.created),
            "_timestamp": iso_utc(entry.changed),
            "type": "folder" if file.folder else "file",
            "title": entry.name,
        }

    async def download(self, root: Root, file: RemoteFile) -> bytes:
        where = f"{root.name}/{file.key}"
        try:
            return await asyncio.to_thread(self.client.read, file.raw.path, self.max_file_size)
        except Exception as exc:
            status = problems.status_of(exc)
            if status == problems.STATUS_ACCESS_DENIED:
                raise ContentError(
                    f"{where}: the user may not read this file (access denied); grant it "
                    "Read on the file to index its text"
                ) from None
            if status in problems.NOT_FOUND or status == problems.STATUS_DELETE_PENDING:
                raise ContentError(f"{where}: deleted since it was listed") from None
            if status == problems.STATUS_SHARING_VIOLATION:
                raise ContentError(
                    f"{where}: another program holds it open without sharing (a sharing "
                    "violation); it is read on the next sync"
                ) from None
            if self.is_transient(exc):
                raise
            raise ContentError(f"{where}: cannot read it: {problems.describe(exc)}") from None

    def is_transient(self, error: BaseException) -> bool:
        return problems.is_transient(error)

    async def close(self) -> None:
        await asyncio.to_thread(self.client.close)


def _remote_file(key: str, entry: Entry) -> RemoteFile:
    return RemoteFile(
        key=key,
        size=entry.size,
        modified=entry.changed,
        folder=entry.folder,
        raw=entry,
    )
