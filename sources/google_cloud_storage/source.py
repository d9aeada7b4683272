"""The `google_cloud_storage` source: objects of Google Cloud Storage buckets, with text."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sluice.sources.base import ContentError, Document
from sluice.sources.errors import ConfigurationError, InsufficientPrivilegesError, SourceError
from sluice.sources.filetree.schema import text_extraction_service_field, tree_fields
from sluice.sources.filetree.source import FileTreeSource, Unlisted
from sluice.sources.filetree.tree import RemoteFile, Root
from sluice.sources.google_cloud_storage import problems
from sluice.sources.google_cloud_storage.client import (
    ATTEMPTS,
    DEFAULT_ENDPOINT,
    MAX_PAGE_SIZE,
    ApiError,
    StorageClient,
    is_transient,
)
from sluice.sources.google_cloud_storage.credentials import (
    FIELD,
    CredentialsProblem,
    ServiceAccount,
)

#: Elastic's CLOUD_STORAGE_BASE_URL: a document's `url` opens the object in the console.
CONSOLE_URL = "https://console.cloud.google.com/storage/browser/_details/"
#: Elastic's BLOB_ADAPTER, in its order: document field -> the JSON API's object field.
BLOB_FIELDS = {
    "_id": "id",
    "component_count": "componentCount",
    "content_encoding": "contentEncoding",
    "content_language": "contentLanguage",
    "created_at": "timeCreated",
    "last_updated": "updated",
    "metadata": "metadata",
    "name": "name",
    "size": "size",
    "storage_class": "storageClass",
    "_timestamp": "updated",
    "type": "contentType",
    "url": "selfLink",
    "version": "generation",
    "bucket_name": "bucket",
}
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


class GoogleCloudStorageSource(FileTreeSource):
    """Objects of Google Cloud Storage buckets, read with a service account's JSON key."""

    #: GCS lists object names in lexicographic order: a stopped sync continues after its last key.
    sorted_listing = True

    service_type = "google_cloud_storage"
    display_name = "Google Cloud Storage"
    description = "Objects of Google Cloud Storage buckets, with their text."
    prerequisites = [
        "A service account for Sluice (Google Cloud console → IAM & Admin → Service accounts "
        "→ Create service account), in any project.",
        "The role Storage Object Viewer (roles/storage.objectViewer) for that account on "
        "each bucket to read (Cloud Storage → Buckets → the bucket → Permissions → Grant "
        "access), or on the project that owns them: it lists and reads the objects.",
        "For '*' (every bucket of the key's project): also storage.buckets.list on that "
        "project, e.g. the role Storage Bucket Viewer (roles/storage.bucketViewer) or a "
        "custom role with that permission (the legacy bucket roles, granted per bucket, do "
        "not give it).",
        "A JSON key of the account (the account → Keys → Add key → Create new key → JSON), "
        "pasted whole into 'Google Cloud service account JSON'.",
        "This machine reaches storage.googleapis.com and oauth2.googleapis.com on port 443.",
    ]
    roots_key = "buckets"
    root_kind = "bucket"

    @classmethod
    def get_default_configuration(cls) -> dict[str, dict[str, Any]]:
        return {
            # Elastic's keys, order, types and defaults
            # (connectors/sources/google_cloud_storage/datasource.py)
            "buckets": {
                "display": "textarea",
                "label": "Google Cloud Storage buckets",
                "order": 1,
                "type": "list",
                "tooltip": "Comma-separated bucket names; * for every bucket of the key's "
                "project; bucket/prefix/ reads only the objects under that prefix.",
            },
            "service_account_credentials": {
                "display": "textarea",
                "label": "Google Cloud service account JSON",
                "sensitive": True,
                "order": 2,
                "type": "str",
                "tooltip": "The service account's JSON key file, pasted whole "
                "(IAM & Admin → Service accounts → the account → Keys → Add key → JSON).",
            },
            "use_text_extraction_service": text_extraction_service_field(3),
            # Sluice's: another endpoint (Private Service Connect, a local emulator)
            "endpoint_url": {
                "label": "Endpoint URL",
                "order": 4,
                "type": "str",
                "required": False,
                "value": DEFAULT_ENDPOINT,
                "default_value": DEFAULT_ENDPOINT,
                "tooltip": f"Google's JSON API, {DEFAULT_ENDPOINT}. Change it only for a "
                "private endpoint (Private Service Connect) or a local emulator.",
                "ui_restrictions": ["advanced"],
            },
            **tree_fields(5),
        }

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        super().__init__(configuration)
        self.endpoint = str(self.values.get("endpoint_url") or "").strip().rstrip("/")
        self.endpoint = self.endpoint or DEFAULT_ENDPOINT
        self.page_size = MAX_PAGE_SIZE
        self.account: ServiceAccount | None = None
        self._credentials_problem: str | None = None
        try:
            self.account = ServiceAccount.from_json(str(self.values.get(FIELD) or ""))
        except CredentialsProblem as exc:
            self._credentials_problem = str(exc)
        self._client: StorageClient | None = None

    @property
    def client(self) -> StorageClient:
        """The JSON API client (made on first use: a wrong key is named, not raised, in
        the form)."""
        if self._client is None:
            if self.account is None:
                raise ConfigurationError({FIELD: self._credentials_problem or "Invalid key."})
            self._client = StorageClient(self.account, self.endpoint)
        return self._client

    @property
    def email(self) -> str:
        return self.account.client_email if self.account else "?"

    @property
    def project(self) -> str:
        return self.account.project_id if self.account else ""

    # ------------------------------------------------------------ checks

    def check_values(self) -> dict[str, str]:
        errors = super().check_values()
        if self._credentials_problem:
            errors[FIELD] = self._credentials_problem
        if not self.endpoint.startswith(("http://", "https://")):
            errors["endpoint_url"] = (
                f"'Endpoint URL': {self.endpoint!r} needs its scheme, like {DEFAULT_ENDPOINT}."
            )
        for root in self.roots:
            if problem := bucket_name_problem(root.name):
                errors.setdefault(
                    "buckets", f"'Google Cloud Storage buckets': {root.name!r} {problem}"
                )
        return errors

    async def ping(self) -> None:
        """The key gets a token, and the endpoint answers with it. An account limited to
        some buckets may not list the project's buckets: fine unless '*' is asked."""
        client = self.client
        try:
            await client.token()
            await client.get_json(
                "/b", {"project": self.project, "maxResults": 1, "fields": "items(name)"}
            )
        except ApiError as exc:
            if exc.status == 403 and self.every_root:
                raise problems.bucket_listing_problem(exc, self.project, self.email) from None
            if exc.status == 401 or self.every_root:
                raise self._problem(exc, "listing the project's buckets") from None
        except Exception as exc:
            raise self._problem(exc, "signing in") from None

    async def list_root_names(self) -> list[str]:
        try:
            return [name async for name in self.client.bucket_names(self.project)]
        except ApiError as exc:
            if exc.status == 403:
                raise problems.bucket_listing_problem(exc, self.project, self.email) from None
            raise self._problem(exc, "listing the project's buckets") from None
        except Exception as exc:
            raise self._problem(exc, "listing the project's buckets") from None

    async def check_root(self, root: Root) -> None:
        try:
            await self.client.list_page(root.name, root.prefix, None, 1)
        except Exception as exc:
            raise self._bucket_problem(exc, root.name) from None

    def _problem(self, error: BaseException, doing: str) -> SourceError:
        return problems.request_problem(error, self.endpoint, self.email, doing)

    def _bucket_problem(self, error: BaseException, bucket: str) -> SourceError:
        if isinstance(error, SourceError):
            return error
        found = problems.connection_problem(error, self.endpoint, self.email)
        return found or problems.bucket_problem(error, bucket, self.email, self.endpoint)

    # ------------------------------------------------------------ the store

    async def list_files(self, root: Root) -> AsyncIterator[RemoteFile | Unlisted]:
        token: str | None = None
        while True:
            try:
                objects, token = await self.client.list_page(
                    root.name, root.prefix, token, self.page_size
                )
            except Exception as exc:
                problem = self._bucket_problem(exc, root.name)
                if isinstance(problem, InsufficientPrivilegesError):
                    yield Unlisted(root.prefix, str(problem))
                    return
                raise problem from None
            for entry in objects:
                name = str(entry.get("name") or "")
                size = _int(entry.get("size"))
                if not name or (name.endswith("/") and not size):
                    continue  # a "folder" the console made: an empty object named "dir/"
                yield RemoteFile(
                    key=name,
                    size=size,
                    modified=_time(entry.get("updated") or entry.get("timeCreated")),
                    etag=entry.get("etag"),
                    raw=entry,
                )
            objects = []  # this page is let go before the next one arrives
            if not token:
                return

    def document(self, root: Root, file: RemoteFile) -> Document:
        """Elastic's `prepare_blob_document`: the API's fields under Elastic's names (the
        size and generation stay the API's strings), `url` the object's console page."""
        entry = file.raw or {}
        document: Document = {field: entry.get(api) for field, api in BLOB_FIELDS.items()}
        name = quote(str(document["name"]), safe="'")
        document["url"] = (
            f"{CONSOLE_URL}{document['bucket_name']}/{name};tab=live_object?project={self.project}"
        )
        document["id"] = document["_id"]
        return document

    async def download(self, root: Root, file: RemoteFile) -> bytes:
        try:
            return await self.client.read(root.name, file.key, self.max_file_size)
        except ApiError as exc:
            if exc.status == 404:
                raise ContentError(f"{root.name}/{file.key}: deleted since it was listed") from None
            if exc.status == 403:
                raise ContentError(
                    f"{root.name}/{file.key}: the service account may not read it "
                    f"(storage.objects.get; grant {problems.OBJECT_VIEWER} on the bucket)"
                ) from None
            raise

    def is_transient(self, error: BaseException) -> bool:
        return is_transient(error)

    @property
    def attempts(self) -> int:
        return ATTEMPTS

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def bucket_name_problem(name: str) -> str | None:
    """Why `name` cannot be a bucket name (Google's naming rules), as the end of a sentence."""
    longest = 222 if "." in name else 63
    if not 3 <= len(name) <= longest or any(len(part) > 63 for part in name.split(".")):
        return "is not a bucket name: bucket names have 3 to 63 characters."
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789.-_")
    if not set(name) <= allowed or not name[0].isalnum() or not name[-1].isalnum():
        return (
            "is not a bucket name: use lower-case letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit."
        )
    return None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return _NEVER
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
