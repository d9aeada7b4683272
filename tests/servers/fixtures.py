"""pytest fixtures for the helper servers; import them into a conftest or test module:

from tests.servers.fixtures import *  # noqa: F403
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import es_settings
from tests.fakes.fake_security import FakeElasticsearch
from tests.servers.certs import CertificateSet, make_certificates
from tests.servers.nginx import nginx_basic_auth
from tests.servers.stunnel import stunnel

NGINX_USER = "proxyuser"
NGINX_PASSWORD = "nginx-Pass-4821"

__all__ = [
    "NGINX_PASSWORD",
    "NGINX_USER",
    "fake_es",
    "nginx_url",
    "plain_upstream",
    "test_certs",
    "tls_urls",
]


def _plain_es_url() -> str | None:
    """The cluster under test, when it is plain http without credentials (the stand-in)."""
    settings = es_settings()
    host = str(settings["host"])
    if host.startswith("http://") and not settings.get("api_key") and not settings.get("username"):
        return host
    return None


@pytest.fixture(scope="session")
def plain_upstream() -> Iterator[str]:
    """A plain-http Elasticsearch to put stunnel and nginx in front of: the stand-in, or
    (against a real TLS cluster) the fake with security off."""
    url = _plain_es_url()
    if url:
        yield url
        return
    with FakeElasticsearch() as fake:
        fake.cluster.security = "off"
        yield fake.url


@pytest.fixture(scope="session")
def test_certs(tmp_path_factory: pytest.TempPathFactory) -> CertificateSet:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def tls_urls(
    test_certs: CertificateSet, plain_upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """`{"good"|"self_signed"|"wrong_host"|"expired": "https://127.0.0.1:PORT"}`."""
    certs = {
        "good": test_certs.good,
        "self_signed": test_certs.self_signed,
        "wrong_host": test_certs.wrong_host,
        "expired": test_certs.expired,
    }
    with stunnel(certs, plain_upstream, tmp_path_factory.mktemp("stunnel")) as urls:
        yield urls


@pytest.fixture(scope="session")
def nginx_url(plain_upstream: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory: Path = tmp_path_factory.mktemp("nginx")
    with nginx_basic_auth(plain_upstream, NGINX_USER, NGINX_PASSWORD, directory) as url:
        yield url


@pytest.fixture
def fake_es() -> Iterator[FakeElasticsearch]:
    """A fresh fake Elasticsearch with security on (no users yet), proxying other requests
    to the stand-in when that is the cluster under test."""
    with FakeElasticsearch(upstream=_plain_es_url()) as fake:
        yield fake
