"""The `azure_blob_storage` source: blobs of Azure Blob Storage containers, with their text."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from sluice.sources.azure_blob_storage import problems
from sluice.sources.azure_blob_storage.client import (
    AzureBlobClient,
    AzureSettings,
    BlobEntry,
    clean_sas,
    sas_fields,
)
from sluice.sources.base import ContentError, Document
from sluice.sources.errors import SourceError
from sluice.sources.filetree.schema import text_extraction_service_field, tree_fields
from sluice.sources.filetree.source import FileTreeSource, Unlisted, positive
from sluice.sources.filetree.tree import RemoteFile, Root, iso_utc

DEFAULT_RETRY_COUNT = 3
MAX_CONCURRENT_DOWNLOADS = 100  # Elastic's bound: Azure's own limit of parallel downloads
#: Blobs per List Blobs page. Azure allows 5000 (client.MAX_PAGE_SIZE); 1000 keeps a page
#: small in memory.
DEFAULT_PAGE_SIZE = 1000
ARCHIVE_TIER = "Archive"
ARCHIVE_NOTICE = (
    "Blobs in the Archive tier are indexed without their text (an archived blob cannot be "
    "read): rehydrate them to the Hot or Cool tier to index their text."
)

_ACCOUNT_NAME = re.compile(r"[a-z0-9]{3,24}")
_CONTAINER_NAME = re.compile(r"\$root|\$web|\$logs|[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")


class AzureBlobStorageSource(FileTreeSource):
    """Blobs of Azure Blob Storage containers, with their text."""

    #: Azure lists blobs in alphabetical order: a stopped sync continues after its last key.
    sorted_listing = True

    service_type = "azure_blob_storage"
    display_name = "Azure Blob Storage"
    description = "Blobs of Azure Blob Storage containers, with their text."
    prerequisites = [
        "The storage account's name and its blob endpoint, "
        "https://ACCOUNT.blob.core.windows.net (Azure portal: the storage account > "
        "Endpoints > Blob service).",
        "Either an account key (the account > Access keys: key1 or key2; it opens the whole "
        "account), or, to give Sluice less, a SAS token with exactly the permissions Read "
        "and List and an expiry date: an account SAS for the Blob service with the resource "
        "types Container and Object (ss=b, srt=co, sp=rl), or a container's SAS "
        "(sr=c, sp=rl). '*' (every container) needs an account SAS with the Service "
        "resource type too (srt=sco). Sluice stops reading when the SAS expires.",
        "Blobs in the Archive tier are indexed with their metadata only: rehydrate them "
        "(Hot or Cool) to index their text.",
    ]
    roots_key = "containers"
    root_kind = "container"

    @classmethod
    def get_default_configuration(cls) -> dict[str, dict[str, Any]]:
        return {
            # Elastic's keys, order, types and defaults
            # (connectors/sources/azure_blob_storage/datasource.py)
            "account_name": {
                "label": "Azure Blob Storage account name",
                "order": 1,
                "type": "str",
            },
            # Elastic's key is not marked sensitive: Sluice masks it, as every secret. It is
            # optional here because a SAS token (`sas_token`, below) may take its place.
            "account_key": {
                "label": "Azure Blob Storage account key",
                "order": 2,
                "type": "str",
                "sensitive": True,
                "required": False,
                "value": "",
                "tooltip": "key1 or key2 of the storage account (Access keys). Leave empty "
                "when you give a SAS token instead.",
            },
            "blob_endpoint": {
                "label": "Azure Blob Storage blob endpoint",
                "order": 3,
                "type": "str",
                "tooltip": "https://ACCOUNT.blob.core.windows.net (or an emulator's address, "
                "like http://127.0.0.1:10000/devstoreaccount1).",
            },
            "containers": {
                "display": "textarea",
                "label": "Azure Blob Storage containers",
                "order": 4,
                "type": "list",
                "tooltip": "Comma-separated; * for every container; container/prefix/ reads "
                "only blobs under that prefix.",
            },
            "retry_count": {
                "default_value": DEFAULT_RETRY_COUNT,
                "display": "numeric",
                "label": "Retries per request",
                "order": 5,
                "required": False,
                "type": "int",
                "ui_restrictions": ["advanced"],
            },
            "concurrent_downloads": {
                "default_value": MAX_CONCURRENT_DOWNLOADS,
                "display": "numeric",
                "label": "Maximum concurrent downloads",
                "order": 6,
                "required": False,
                "type": "int",
                "ui_restrictions": ["advanced"],
                "validations": [{"type": "less_than", "constraint": MAX_CONCURRENT_DOWNLOADS + 1}],
            },
            "use_text_extraction_service": text_extraction_service_field(7),
            # Sluice's: a SAS token instead of the account key, so Sluice can be given
            # read and list rights only, for a limited time
            "sas_token": {
                "label": "SAS token",
                "order": 8,
                "type": "str",
                "sensitive": True,
                "required": False,
                "value": "",
                "tooltip": "Instead of the account key: a SAS with Read and List (sp=rl), "
                "account SAS with srt=co or a container's SAS. Leave empty with a key.",
            },
            **tree_fields(9),
        }

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        super().__init__(configuration)
        values = self.values
        self.account_name = str(values.get("account_name") or "").strip()
        self.endpoint = str(values.get("blob_endpoint") or "").strip().rstrip("/")
        self.account_key = str(values.get("account_key") or "").strip()
        self.sas_token = clean_sas(str(values.get("sas_token") or ""))
        self.page_size = DEFAULT_PAGE_SIZE
        """Blobs per listing page (at most 5000)."""
        self.settings = AzureSettings(
            account_name=self.account_name,
            blob_endpoint=self.endpoint,
            account_key="" if self.sas_token else self.account_key,
            sas_token=self.sas_token,
            retry_count=_count(values.get("retry_count"), DEFAULT_RETRY_COUNT),
            # the engine loads at most 16 documents' content at once; one more for listing
            concurrency=min(self.concurrent_downloads, 16) + 1,
        )
        self.client = AzureBlobClient(self.settings)
        self._container_metadata: dict[str, str] = {}

    # ------------------------------------------------------------ checks

    def check_values(self) -> dict[str, str]:
        errors = super().check_values()
        label = self._label
        if bool(self.account_key) == bool(self.sas_token):
            both = (
                "give only one of them: a SAS token is used instead of the key."
                if self.account_key
                else "give one of them."
            )
            message = f"'{label('account_key')}' or '{label('sas_token')}': {both}"
            errors["account_key"] = errors["sas_token"] = message
        elif self.sas_token and "sig" not in sas_fields(self.sas_token):
            errors["sas_token"] = (
                f"'{label('sas_token')}': this is not a SAS token (it has no sig=...). Paste "
                "the token the portal shows (sv=...&sp=rl&...&sig=...)."
            )
        if self.account_name and not _ACCOUNT_NAME.fullmatch(self.account_name):
            errors["account_name"] = (
                f"'{label('account_name')}': {self.account_name!r} is not a storage account "
                "name (3 to 24 lower-case letters and digits)."
            )
        if self.endpoint and (problem := self._endpoint_problem()):
            errors["blob_endpoint"] = f"'{label('blob_endpoint')}': {problem}"
        elif self.endpoint and self.account_name and "account_name" not in errors:
            named = endpoint_account(self.endpoint)
            if named and named != self.account_name:
                message = (
                    f"'{label('blob_endpoint')}' is the endpoint of the account {named!r}, and "
                    f"'{label('account_name')}' says {self.account_name!r}: make them the same."
                )
                errors["blob_endpoint"] = errors["account_name"] = message
        for root in self.roots:
            if not _CONTAINER_NAME.fullmatch(root.name):
                errors.setdefault(
                    "containers",
                    f"'{label('containers')}': {root.name!r} is not a container name (3 to 63 "
                    "lower-case letters, digits and single hyphens, starting with a letter or "
                    "digit).",
                )
        return errors

    def _label(self, key: str) -> str:
        return str(self.configuration.get(key, {}).get("label") or key)

    def _endpoint_problem(self) -> str | None:
        parts = urlsplit(self.endpoint)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            return (
                f"{self.endpoint!r} is not a blob endpoint: give its URL, like "
                "https://ACCOUNT.blob.core.windows.net."
            )
        if parts.query or parts.fragment:
            return "give the endpoint without ?... (a SAS token goes into 'SAS token')."
        return None

    async def ping(self) -> None:
        """The endpoint, the account and the credentials work: Get Account Information (as
        Elastic's source does), asked of the first container for a container's SAS."""
        container: str | None = None
        if problems.is_service_sas(self.settings):
            if not self.roots:
                return  # '*' with a container's SAS: `list_root_names` says why not
            container = self.roots[0].name
        try:
            await self.client.account_information(container)
        except Exception as exc:
            raise self._problem(exc, container) from None

    async def list_root_names(self) -> list[str]:
        if problems.is_service_sas(self.settings):
            raise problems.cannot_list_containers(self.settings, "")
        try:
            return await self.client.list_containers()
        except Exception as exc:
            code = problems.error_code(exc)
            if code in {"AuthorizationResourceTypeMismatch", "AuthorizationPermissionMismatch"}:
                raise problems.cannot_list_containers(self.settings, code) from None
            raise self._problem(exc) from None

    async def check_root(self, root: Root) -> None:
        try:
            await self.client.list_page(root.name, root.prefix, None, 1)
        except Exception as exc:
            raise self._problem(exc, root.name) from None

    def _problem(self, error: BaseException, container: str | None = None) -> SourceError:
        found = problems.connection_problem(error, self.settings)
        if found is None and container is not None:
            found = problems.container_problem(error, container, self.settings)
        if found is not None:
            return found
        code = problems.error_code(error) or type(error).__name__
        first = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        return SourceError(
            f"{self.endpoint} answered: {code}: {first}",
            "Check the blob endpoint, the credentials and the container names.",
        )

    # ------------------------------------------------------------ the store

    async def list_files(self, root: Root) -> AsyncIterator[RemoteFile | Unlisted]:
        token: str | None = None
        while True:
            try:
                entries, token = await self.client.list_page(
                    root.name, root.prefix, token, self.page_size
                )
            except Exception as exc:
                problem = self._problem(exc, root.name)
                if isinstance(problem, problems.InsufficientPrivilegesError):
                    yield Unlisted(root.prefix, str(problem))
                    return
                raise problem from None
            if entries and root.name not in self._container_metadata:
                await self._read_container_metadata(root.name)
            for entry in entries:
                yield RemoteFile(
                    key=entry.name,
                    size=entry.size,
                    modified=entry.last_modified,
                    etag=entry.etag,
                    raw=entry,
                )
            if not token:
                return

    async def _read_container_metadata(self, container: str) -> None:
        """The container's metadata for 'container metadata': from its properties (Read on
        the container), else from List Containers as Elastic reads it (List on the
        account); a container's SAS allows neither, and then it is written as {}."""
        metadata: dict[str, str] | None = None
        for read in (
            self.client.container_properties_metadata,
            self.client.listed_container_metadata,
        ):
            try:
                metadata = await read(container)
                break
            except Exception as exc:
                if problems.status_of(exc) != 403:
                    raise self._problem(exc, container) from None
        if metadata is None:
            self.logger.warning(
                "The metadata of container %s is not readable with these credentials "
                "(a SAS needs Read on the container); 'container metadata' is written as {}.",
                container,
            )
            metadata = {}
        self._container_metadata[container] = str(metadata)

    def document(self, root: Root, file: RemoteFile) -> Document:
        """Elastic's Azure Blob Storage document: `_id` is "container/name"."""
        entry: BlobEntry = file.raw
        doc_id = f"{root.name}/{file.key}"
        created = entry.creation_time
        return {
            "_id": doc_id,
            "_timestamp": iso_utc(entry.last_modified),
            "created at": iso_utc(created) if created is not None else None,
            "content type": entry.content_type,
            "container metadata": self._container_metadata.get(root.name, "{}"),
            "metadata": entry.metadata,
            "leasedata": entry.lease,
            "title": file.key,
            "tier": entry.tier,
            "size": entry.size,
            "container": root.name,
            "id": doc_id,
        }

    def unreadable(self, file: RemoteFile) -> str | None:
        """An archived blob cannot be read (Elastic's source skips it with a warning too)."""
        entry = file.raw
        return (
            ARCHIVE_NOTICE if isinstance(entry, BlobEntry) and entry.tier == ARCHIVE_TIER else None
        )

    async def download(self, root: Root, file: RemoteFile) -> bytes:
        where = f"{root.name}/{file.key}"
        try:
            return await self.client.read(root.name, file.key, self.max_file_size)
        except Exception as exc:
            code = problems.error_code(exc)
            if code == "BlobNotFound":
                raise ContentError(f"{where}: deleted since it was listed") from None
            if code == "BlobArchived":
                raise ContentError(f"{where}: archived since it was listed") from None
            if code in problems.NOT_ALLOWED or problems.status_of(exc) == 403:
                fix = "the SAS token needs the Read permission, sp=rl" if self.sas_token else code
                raise ContentError(f"{where}: these credentials may not read it ({fix})") from None
            problem = problems.connection_problem(exc, self.settings)
            if problem is not None:
                raise ContentError(f"{where}: {problem.problem}") from None
            if code:  # the service's answer, without its XML
                first = str(exc).strip().splitlines()[0]
                raise ContentError(f"{where}: cannot download it ({code}: {first})") from None
            raise

    def is_transient(self, error: BaseException) -> bool:
        return problems.is_transient(error)

    @property
    def attempts(self) -> int:
        return 1  # the library retries itself, `retry_count` times

    @property
    def concurrent_downloads(self) -> int:
        wanted = positive(self.values.get("concurrent_downloads"), MAX_CONCURRENT_DOWNLOADS)
        return min(wanted, MAX_CONCURRENT_DOWNLOADS)

    async def close(self) -> None:
        self.client.close()


def endpoint_account(endpoint: str) -> str | None:
    """The account an endpoint names: ACCOUNT.blob.core.windows.net, or the first part of
    the path of an emulator's http://127.0.0.1:10000/ACCOUNT; None for a custom domain."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    if ".blob.core." in host:
        return host.split(".", 1)[0]
    path = parts.path.strip("/")
    return path.split("/", 1)[0] if path else None


def _count(value: Any, default: int) -> int:
    """A count of retries: 0 is allowed (no retry)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return default
