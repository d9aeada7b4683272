"""A small Azure Blob Storage client over azure-storage-blob: the calls the source makes,
each run in a thread.

The library signs the requests (shared key from the account name and key, or a SAS token)
and retries throttling, server errors and dropped connections with its own exponential
policy, `retry_count` times (Elastic's `retry_total`). Sluice gives it a connection pool as
big as the downloads it runs at once, and keeps only the fields of a listed blob that its
document needs, so a page of thousands of blobs is small.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs

T = TypeVar("T")

#: Azure's page limit for List Blobs.
MAX_PAGE_SIZE = 5000


@dataclass(frozen=True)
class AzureSettings:
    account_name: str
    blob_endpoint: str
    account_key: str = ""
    sas_token: str = ""
    retry_count: int = 3
    concurrency: int = 16
    """Requests in flight (threads and pooled connections): a request mostly waits."""
    connection_timeout: int = 20
    read_timeout: int = 60


@dataclass(frozen=True, slots=True)
class BlobEntry:
    """What a listing page says of one blob that Elastic's document uses."""

    name: str
    size: int
    last_modified: datetime
    creation_time: datetime | None
    content_type: str | None
    metadata: str
    """`str()` of the blob's metadata (a dict), as Elastic's source writes it."""
    lease: str
    """`str()` of the library's `LeaseProperties`, as Elastic's source writes it."""
    tier: str | None
    etag: str | None


def sas_fields(token: str) -> dict[str, str]:
    """The fields of a SAS token (`se`, `sp`, `sr`, ...), first value of each."""
    return {key: values[0] for key, values in parse_qs(token, keep_blank_values=True).items()}


def clean_sas(text: str) -> str:
    """The token part of what a user pasted: without a leading '?', or the query of a
    whole SAS URL."""
    text = text.strip()
    if "?" in text:
        text = text.split("?", 1)[1]
    return text.strip()


class AzureBlobClient:
    """One `BlobServiceClient` (its container clients share its connection pool)."""

    def __init__(self, settings: AzureSettings) -> None:
        self.settings = settings
        self._service: Any = None
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    async def _in_thread(self, work: Callable[[], T]) -> T:
        """`work()` in a pool of its own (the loop's default one has cpu + 4 threads, and
        a request mostly waits for the network)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=max(1, self.settings.concurrency),
                    thread_name_prefix="sluice-azure",
                )
            pool = self._pool
        return await asyncio.get_running_loop().run_in_executor(pool, work)

    def _client(self) -> Any:
        with self._lock:
            if self._service is None:
                self._service = self._new_client()
            return self._service

    def _new_client(self) -> Any:
        import requests
        from azure.core.credentials import AzureSasCredential
        from azure.core.pipeline.transport import RequestsTransport
        from azure.storage.blob import BlobServiceClient, ExponentialRetry
        from urllib3.util.retry import Retry

        settings = self.settings
        credential: Any
        if settings.sas_token:
            credential = AzureSasCredential(settings.sas_token)
        else:
            credential = {
                "account_name": settings.account_name,
                "account_key": settings.account_key,
            }
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=4,
            pool_maxsize=max(10, settings.concurrency),
            max_retries=Retry(total=False, redirect=False, raise_on_status=False),
        )
        for scheme in ("http://", "https://"):
            session.mount(scheme, adapter)
        transport = RequestsTransport(
            session=session,
            session_owner=True,
            connection_timeout=settings.connection_timeout,
            read_timeout=settings.read_timeout,
        )
        return BlobServiceClient(
            account_url=settings.blob_endpoint,
            credential=credential,
            transport=transport,
            # the library's back-off (15 s, then 18 s, 24 s...), `retry_count` times
            retry_policy=ExponentialRetry(retry_total=max(0, settings.retry_count)),
            user_agent="sluice",
        )

    def _container(self, name: str) -> Any:
        return self._client().get_container_client(name)

    async def account_information(self, container: str | None = None) -> None:
        """Get Account Information: proves the endpoint, the account and the credentials.
        A SAS for one container may only ask it of that container. Connection failures
        are not retried: a wrong address must be told at once."""

        def ask() -> None:
            target = self._container(container) if container else self._client()
            target.get_account_information(retry_connect=0)

        await self._in_thread(ask)

    async def list_containers(self) -> list[str]:
        def names() -> list[str]:
            return [item.name for item in self._client().list_containers()]

        return await self._in_thread(names)

    async def container_properties_metadata(self, container: str) -> dict[str, str]:
        """The container's metadata from its properties (needs Read on the container)."""

        def read() -> dict[str, str]:
            return dict(self._container(container).get_container_properties().metadata or {})

        return await self._in_thread(read)

    async def listed_container_metadata(self, container: str) -> dict[str, str] | None:
        """The container's metadata as List Containers gives it (needs List on the
        account), as Elastic's source reads it; None when no container has that name."""

        def read() -> dict[str, str] | None:
            for item in self._client().list_containers(
                name_starts_with=container, include_metadata=True
            ):
                if item.name == container:
                    return dict(item.metadata or {})
            return None

        return await self._in_thread(read)

    async def list_page(
        self, container: str, prefix: str, token: str | None, page_size: int
    ) -> tuple[list[BlobEntry], str | None]:
        """One List Blobs page (with the blobs' metadata) and the marker of the next."""

        def fetch() -> tuple[list[BlobEntry], str | None]:
            pages = (
                self._container(container)
                .list_blobs(
                    name_starts_with=prefix or None,
                    include=["metadata"],
                    results_per_page=max(1, min(page_size, MAX_PAGE_SIZE)),
                )
                .by_page(continuation_token=token)
            )
            try:
                page = next(pages, None)
                entries = [_entry(blob) for blob in page or ()]
                return entries, (pages.continuation_token or None) if page is not None else None
            finally:
                # the pager refers to itself (bound methods): without this, each page's
                # thousand blobs would wait for Python's cyclic garbage collector
                vars(pages).clear()

        return await self._in_thread(fetch)

    async def read(self, container: str, name: str, max_bytes: int) -> bytes:
        """The blob's bytes, at most `max_bytes` + 1 (one more tells it grew)."""

        def fetch() -> bytes:
            stream = self._container(container).download_blob(
                name, offset=0, length=max_bytes + 1, max_concurrency=1
            )
            return bytes(stream.readall())

        return await self._in_thread(fetch)

    def close(self) -> None:
        with self._lock:
            service, self._service = self._service, None
            pool, self._pool = self._pool, None
        if service is not None:
            service.close()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _entry(blob: Any) -> BlobEntry:
    tier = blob.blob_tier
    settings = blob.content_settings
    return BlobEntry(
        name=blob.name,
        size=int(blob.size or 0),
        last_modified=blob.last_modified,
        creation_time=blob.creation_time,
        content_type=settings.content_type if settings is not None else None,
        metadata=str(blob.metadata),
        lease=str(blob.lease),
        tier=str(getattr(tier, "value", tier)) if tier is not None else None,
        etag=str(blob.etag or "").strip('"') or None,
    )
