"""A small S3 client over botocore: the calls the source makes, each run in a thread.

botocore signs the requests (Signature V4), retries throttling and dropped connections
with exponential back-off and jitter (its "standard" mode, `max_attempts` tries) and knows
every region's endpoint; Sluice adds path-style addressing for S3-compatible stores.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")

#: S3's page limit for ListObjectsV2.
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class S3Settings:
    access_key_id: str
    secret_access_key: str
    endpoint_url: str = ""
    region: str = ""
    connect_timeout: int = 90
    read_timeout: int = 90
    max_attempts: int = 5
    concurrency: int = 16
    """Requests in flight: S3 answers each in tens of milliseconds, so downloads overlap."""


class S3Client:
    """One botocore client per region (buckets of AWS live in different regions; a
    custom endpoint has one)."""

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self._clients: dict[str, Any] = {}
        self._regions: dict[str, str] = {}
        self._lock = threading.Lock()
        # a pool of its own: the loop's default one has cpu + 4 threads, and a request
        # mostly waits for the network
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, settings.concurrency), thread_name_prefix="sluice-s3"
        )

    async def _in_thread(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, partial(work, *args, **kwargs))

    def _client(self, region: str = "") -> Any:
        region = region or self.settings.region or "us-east-1"
        with self._lock:
            if region not in self._clients:
                self._clients[region] = self._new_client(region)
            return self._clients[region]

    def _new_client(self, region: str) -> Any:
        import botocore.session
        from botocore.config import Config

        settings = self.settings
        session = botocore.session.Session()
        session.set_config_variable("config_file", "/dev/null")  # ~/.aws must not interfere
        session.set_config_variable("credentials_file", "/dev/null")
        config = Config(
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            retries={"max_attempts": max(1, settings.max_attempts), "mode": "standard"},
            # custom endpoints (MinIO, SeaweedFS, Ceph…) rarely serve bucket.host names
            s3={"addressing_style": "path" if settings.endpoint_url else "auto"},
            signature_version="s3v4",
            user_agent_extra="sluice",
            max_pool_connections=max(10, settings.concurrency),
        )
        return session.create_client(
            "s3",
            region_name=region,
            endpoint_url=settings.endpoint_url or None,
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            config=config,
        )

    async def call(self, region: str, operation: str, **params: Any) -> Any:
        client = await self._in_thread(self._client, region)
        return await self._in_thread(getattr(client, operation), **params)

    async def list_buckets(self) -> list[str]:
        answer = await self.call("", "list_buckets")
        return [bucket["Name"] for bucket in answer.get("Buckets", [])]

    async def region_of(self, bucket: str) -> str:
        """The bucket's region on AWS (GetBucketLocation; "" = us-east-1); the configured
        one for a custom endpoint, where regions are whatever the store says."""
        if self.settings.endpoint_url or self.settings.region:
            return self.settings.region
        if bucket not in self._regions:
            try:
                answer = await self.call("", "get_bucket_location", Bucket=bucket)
                self._regions[bucket] = answer.get("LocationConstraint") or "us-east-1"
            except Exception:  # no s3:GetBucketLocation: botocore follows redirects
                self._regions[bucket] = ""
        return self._regions[bucket]

    async def list_page(
        self, bucket: str, prefix: str, token: str | None, page_size: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One ListObjectsV2 page: its objects and the token of the next one."""
        params: dict[str, Any] = {
            "Bucket": bucket,
            "MaxKeys": max(1, min(page_size, MAX_PAGE_SIZE)),
            "FetchOwner": True,
        }
        if prefix:
            params["Prefix"] = prefix
        if token:
            params["ContinuationToken"] = token
        answer = await self.call(await self.region_of(bucket), "list_objects_v2", **params)
        following = answer.get("NextContinuationToken") if answer.get("IsTruncated") else None
        return answer.get("Contents", []), following

    async def read(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """The object's bytes, at most `max_bytes` + 1 (one more tells it grew)."""
        region = await self.region_of(bucket)

        def fetch() -> bytes:
            answer = self._client(region).get_object(Bucket=bucket, Key=key)
            body = answer["Body"]
            try:
                return bytes(body.read(max_bytes + 1))
            finally:
                body.close()

        return await self._in_thread(fetch)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
