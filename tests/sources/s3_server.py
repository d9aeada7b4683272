"""The S3 server of the tests: SeaweedFS's S3 gateway started by `scripts/services.sh`, which
checks request signatures (or any S3 store named by SLUICE_S3_URL and its keys)."""

from __future__ import annotations

import http.client
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import service_url


@dataclass(frozen=True)
class S3Server:
    url: str
    access_key: str
    secret_key: str
    region: str

    def keys(self, kind: str) -> tuple[str, str]:
        """Credentials of another identity of the server: "readonly", "nolist", "noread"."""
        access = service_url(f"SLUICE_S3_{kind.upper()}_ACCESS_KEY", "")
        secret = service_url(f"SLUICE_S3_{kind.upper()}_SECRET_KEY", "")
        if not access:
            pytest.skip(f"SLUICE_S3_{kind.upper()}_ACCESS_KEY is not set (scripts/services.sh)")
        return access, secret

    def client(self, access: str | None = None, secret: str | None = None) -> Any:
        import botocore.session
        from botocore.config import Config

        return botocore.session.Session().create_client(
            "s3",
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=access or self.access_key,
            aws_secret_access_key=secret or self.secret_key,
            config=Config(max_pool_connections=32, s3={"addressing_style": "path"}),
        )

    def config(self, buckets: str, **values: Any) -> dict[str, Any]:
        return {
            "buckets": buckets,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "endpoint_url": self.url,
            "region": self.region,
            **values,
        }


@dataclass
class Bucket:
    """A bucket of the test's own, emptied and removed afterwards."""

    server: S3Server
    name: str

    def __post_init__(self) -> None:
        self.admin = self.server.client()

    def put(self, key: str, body: bytes | str = b"", **extra: Any) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.admin.put_object(Bucket=self.name, Key=key, Body=data, **extra)

    def put_many(self, keys: list[str], body: bytes = b"x", workers: int = 16) -> None:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda key: self.put(key, body), keys))

    def fill(self, keys: list[str], body: bytes = b"x") -> None:
        """Many objects fast: through SeaweedFS's filer when the server is the local one
        (about three times the rate of signed S3 requests), else as `put_many`."""
        filer = service_url("SLUICE_S3_FILER_URL", "")
        if not filer:
            self.put_many(keys, body, workers=24)
            return
        address = urlparse(filer)
        local = threading.local()

        def put(key: str) -> None:
            connection = getattr(local, "connection", None)
            if connection is None:
                connection = local.connection = http.client.HTTPConnection(
                    address.hostname, address.port
                )
            connection.request("PUT", f"/buckets/{self.name}/{key}", body=body)
            answer = connection.getresponse()
            answer.read()
            assert answer.status in (200, 201), f"filer answered {answer.status} for {key}"

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(put, keys))

    def delete(self, key: str) -> None:
        self.admin.delete_object(Bucket=self.name, Key=key)

    def empty(self) -> None:
        paginator = self.admin.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.name):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.admin.delete_objects(Bucket=self.name, Delete={"Objects": keys})


@pytest.fixture(scope="session")
def s3_server() -> S3Server:
    url = service_url("SLUICE_S3_URL", "")
    if not url:
        pytest.skip("SLUICE_S3_URL is not set: run scripts/services.sh up")
    return S3Server(
        url=url,
        access_key=service_url("SLUICE_S3_ACCESS_KEY", ""),
        secret_key=service_url("SLUICE_S3_SECRET_KEY", ""),
        region=service_url("SLUICE_S3_REGION", "us-east-1"),
    )


def new_bucket(server: S3Server) -> Bucket:
    bucket = Bucket(server, f"sluice-test-{uuid.uuid4().hex[:10]}")
    bucket.admin.create_bucket(Bucket=bucket.name)
    return bucket


@pytest.fixture
def bucket(s3_server: S3Server) -> Iterator[Bucket]:
    made = new_bucket(s3_server)
    try:
        yield made
    finally:
        made.empty()
        made.admin.delete_bucket(Bucket=made.name)


def closed_port_url() -> str:
    from tests.sources.helpers import free_port

    return f"http://127.0.0.1:{free_port()}"
