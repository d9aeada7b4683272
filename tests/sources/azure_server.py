"""The Azure Blob Storage server of the tests: Azurite started by `scripts/services.sh`, which
checks shared-key signatures and SAS tokens (permissions, resource types, expiry), or any
account named by SLUICE_AZURE_BLOB_URL, SLUICE_AZURE_ACCOUNT and SLUICE_AZURE_KEY."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import service_url


@dataclass(frozen=True)
class AzureAccount:
    url: str
    """The blob endpoint, like http://127.0.0.1:30000/devstoreaccount1."""
    name: str
    key: str

    def service(self, pool: int = 10) -> Any:
        """An admin client (the account key) for preparing containers and blobs."""
        import requests
        from azure.core.pipeline.transport import RequestsTransport
        from azure.storage.blob import BlobServiceClient

        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=pool))
        session.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=pool))
        return BlobServiceClient(
            self.url,
            credential={"account_name": self.name, "account_key": self.key},
            transport=RequestsTransport(session=session),
            retry_total=2,
        )

    def config(self, containers: str, **values: Any) -> dict[str, Any]:
        """The source's configuration with the account key."""
        return {
            "account_name": self.name,
            "account_key": self.key,
            "blob_endpoint": self.url,
            "containers": containers,
            "retry_count": 1,
            **values,
        }

    def sas_config(self, containers: str, token: str, **values: Any) -> dict[str, Any]:
        """The source's configuration with a SAS token instead of the key."""
        return {**self.config(containers, **values), "account_key": "", "sas_token": token}

    def account_sas(
        self,
        permission: str = "rl",
        resource_types: str = "co",
        expires_in: timedelta = timedelta(hours=1),
    ) -> str:
        from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

        return generate_account_sas(
            self.name,
            self.key,
            resource_types=ResourceTypes.from_string(resource_types),
            permission=AccountSasPermissions.from_string(permission),
            expiry=datetime.now(UTC) + expires_in,
        )

    def container_sas(
        self, container: str, permission: str = "rl", expires_in: timedelta = timedelta(hours=1)
    ) -> str:
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        return generate_container_sas(
            self.name,
            container,
            account_key=self.key,
            permission=ContainerSasPermissions.from_string(permission),
            expiry=datetime.now(UTC) + expires_in,
        )

    def elsewhere(self, account: str) -> str:
        """This server's endpoint for another account name (path-style, as Azurite's)."""
        return self.url.rsplit("/", 1)[0] + f"/{account}"


@dataclass
class Container:
    """A container of the test's own, removed afterwards."""

    account: AzureAccount
    name: str
    pool: int = 10
    client: Any = field(init=False, repr=False)
    removed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.client = self.account.service(self.pool).get_container_client(self.name)

    def create(self, metadata: dict[str, str] | None = None) -> Container:
        self.client.create_container(metadata=metadata)
        return self

    def put(
        self,
        name: str,
        body: bytes | str = b"",
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> None:
        from azure.storage.blob import ContentSettings

        data = body.encode() if isinstance(body, str) else body
        settings = ContentSettings(content_type=content_type) if content_type else None
        self.client.upload_blob(
            name, data, overwrite=True, metadata=metadata, content_settings=settings
        )

    def put_many(self, names: Iterable[str], body: bytes = b"", workers: int = 16) -> None:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda name: self.client.upload_blob(name, body, overwrite=True), names))

    def delete(self, name: str) -> None:
        self.client.delete_blob(name)

    def archive(self, name: str) -> None:
        self.client.get_blob_client(name).set_standard_blob_tier("Archive")

    def blobs(self) -> dict[str, Any]:
        """The library's own `BlobProperties` of every blob, as Elastic's source lists them."""
        return {blob.name: blob for blob in self.client.list_blobs(include=["metadata"])}

    def remove(self) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        if self.removed:
            return
        self.removed = True
        try:
            self.client.delete_container()
        except ResourceNotFoundError:
            pass
        self.client.close()


@pytest.fixture(scope="session")
def azure() -> AzureAccount:
    url = service_url("SLUICE_AZURE_BLOB_URL", "")
    if not url:
        pytest.skip("SLUICE_AZURE_BLOB_URL is not set: run scripts/services.sh up")
    return AzureAccount(
        url=url.rstrip("/"),
        name=service_url("SLUICE_AZURE_ACCOUNT", "devstoreaccount1"),
        key=service_url("SLUICE_AZURE_KEY", ""),
    )


def new_container(
    account: AzureAccount, metadata: dict[str, str] | None = None, pool: int = 10
) -> Container:
    return Container(account, f"sluice-test-{uuid.uuid4().hex[:10]}", pool).create(metadata)


@pytest.fixture
def container(azure: AzureAccount) -> Iterator[Container]:
    made = new_container(azure, {"team": "search", "purpose": "tests"})
    try:
        yield made
    finally:
        made.remove()
