"""Shared fixtures. Integration tests talk to real servers: the local ones that
`scripts/services.sh` starts, or a real cluster named by environment variables:

    SLUICE_ES_URL            Elasticsearch endpoint (default: the local stand-in)
    SLUICE_ES_API_KEY        API key, or SLUICE_ES_USERNAME / SLUICE_ES_PASSWORD
    SLUICE_ES_CA_CERTS       CA bundle for https endpoints
    SLUICE_PG_URL            postgresql://user:pass@host:port/db
    SLUICE_MYSQL_URL         mysql://user:pass@host:port/db
    SLUICE_S3_URL            an S3 endpoint, with SLUICE_S3_ACCESS_KEY / SLUICE_S3_SECRET_KEY
                             (and SLUICE_S3_{READONLY,NOLIST,NOREAD}_* identities)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from sluice.core.es import build_client

ROOT = Path(__file__).resolve().parent.parent

# The stores' fixtures, for the source tests and the wizard's tests alike.
pytest_plugins = [
    "tests.sources.s3_server",
    "tests.sources.smb_server",
    "tests.sources.gcs_server",
    "tests.sources.azure_server",
]

if "SLUICE_SANDBOX_PORT" not in os.environ:
    # The sandbox's stable default port belongs to the user's own sandbox: tests take a
    # free one, inherited by the processes they start.
    from sluice.core.sandbox import free_port

    os.environ["SLUICE_SANDBOX_PORT"] = str(free_port())


def _services_env() -> dict[str, str]:
    """Values from `.services.env`, used where the environment does not set them."""
    path = ROOT / ".services.env"
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
    return values


def service_url(name: str, default: str) -> str:
    return os.environ.get(name) or _services_env().get(name) or default


def es_settings() -> dict[str, Any]:
    """The `elasticsearch` config section for the cluster under test."""
    settings: dict[str, Any] = {"host": service_url("SLUICE_ES_URL", "http://127.0.0.1:39200")}
    if os.environ.get("SLUICE_ES_API_KEY"):
        settings["api_key"] = os.environ["SLUICE_ES_API_KEY"]
    elif os.environ.get("SLUICE_ES_USERNAME"):
        settings["username"] = os.environ["SLUICE_ES_USERNAME"]
        settings["password"] = os.environ.get("SLUICE_ES_PASSWORD", "")
    if os.environ.get("SLUICE_ES_CA_CERTS"):
        settings["ca_certs"] = os.environ["SLUICE_ES_CA_CERTS"]
    settings["request_timeout"] = 60
    settings["max_retries"] = 2
    return settings


_cluster_used = False


@pytest.fixture
def es_config() -> dict[str, Any]:
    global _cluster_used
    _cluster_used = True
    return es_settings()


@pytest.fixture(autouse=True)
def secrets_of_this_test_only() -> Iterator[None]:
    """The redaction registry (`core.redact`) is process-wide: a password one test loaded
    (the local servers' is "sluice") must not scrub another test's log lines."""
    from sluice.core.redact import forget_all_secrets

    forget_all_secrets()
    yield
    forget_all_secrets()


@pytest.fixture(scope="session", autouse=True)
def forget_test_connectors_at_the_end() -> Iterator[None]:
    """Connector records tests made in the shared indices are deleted after the session
    (see tests/leftovers.py), so a real cluster's Kibana is not left full of them."""
    yield
    if _cluster_used:
        from tests.leftovers import UNIQUE_TOKENS, forget_test_connectors

        forget_test_connectors(es_settings(), UNIQUE_TOKENS)


@pytest.fixture
async def es(es_config: dict[str, Any]) -> AsyncIterator[AsyncElasticsearch]:
    client = build_client(es_config)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def index_name(es: AsyncElasticsearch) -> AsyncIterator[str]:
    """A fresh, valid content index name; deleted after the test."""
    name = f"search-sluice-test-{uuid.uuid4().hex[:10]}"
    yield name
    await es.options(ignore_status=404).indices.delete(index=name)


@pytest.fixture
def pg_url() -> str:
    return service_url("SLUICE_PG_URL", "postgresql://sluice:sluice@127.0.0.1:35432/sluice")


@pytest.fixture
def mysql_url() -> str:
    return service_url("SLUICE_MYSQL_URL", "mysql://sluice:sluice@127.0.0.1:33306/sluice")


@pytest.fixture
async def cleanup_indices(es: AsyncElasticsearch) -> AsyncIterator[list[str]]:
    """Index names appended here are deleted after the test."""
    names: list[str] = []
    yield names
    for name in names:
        await es.options(ignore_status=404).indices.delete(index=name)
