"""Real TLS: stunnel4 serves openssl-made certificates in front of the Elasticsearch stand-in
(or the fake), and the client verifies, pins and refuses exactly as promised."""

from __future__ import annotations

import os
import stat
from urllib.parse import urlsplit

import pytest
from elastic_transport import TlsError

from sluice.core.es import (
    CertificateError,
    build_client,
    fetch_certificate_chain,
    normalize_fingerprint,
    pin_certificate,
)
from sluice.core.es.tls import ca_file_name, format_fingerprint, save_pinned_ca
from tests.servers.certs import sha256_fingerprint
from tests.servers.stunnel import stunnel


async def _version(settings) -> str:
    client = build_client(settings)
    try:
        return (await client.info())["version"]["number"]
    finally:
        await client.close()


async def test_unknown_ca_is_refused_and_accepted_with_ca_certs(tls_urls, test_certs):
    with pytest.raises(TlsError, match="CERTIFICATE_VERIFY_FAILED"):
        await _version({"host": tls_urls["good"], "max_retries": 0})
    assert await _version({"host": tls_urls["good"], "ca_certs": str(test_certs.ca)})


@pytest.mark.parametrize("scenario", ["self_signed", "wrong_host", "expired"])
async def test_bad_certificates_are_refused_even_with_the_ca(tls_urls, test_certs, scenario):
    with pytest.raises(TlsError):
        await _version({"host": tls_urls[scenario], "ca_certs": str(test_certs.ca)})


async def test_verify_certs_false_connects_to_a_self_signed_server(tls_urls):
    assert await _version({"host": tls_urls["self_signed"], "verify_certs": False})


async def test_fetch_certificate_chain_shows_leaf_then_ca(tls_urls, test_certs):
    chain = await fetch_certificate_chain(tls_urls["good"])
    assert [c.subject for c in chain] == ["CN=127.0.0.1", "CN=Sluice Test CA"]
    assert chain[0].sha256_fingerprint == sha256_fingerprint(test_certs.good.leaf)
    assert chain[1].sha256_fingerprint == sha256_fingerprint(test_certs.ca)
    assert chain[1].is_ca and chain[1].self_signed and not chain[0].is_ca
    assert "127.0.0.1" in chain[0].hostnames and "localhost" in chain[0].hostnames
    assert chain[0].not_after > chain[0].not_before


async def test_expired_chain_is_shown_with_its_dates(tls_urls):
    chain = await fetch_certificate_chain(tls_urls["expired"])
    assert chain[0].expired()
    assert chain[0].not_after.year == 2020


@pytest.mark.parametrize("which", ["ca", "leaf"])
async def test_ca_fingerprint_pins_ca_or_leaf(tls_urls, test_certs, which):
    pem = test_certs.ca if which == "ca" else test_certs.good.leaf
    fingerprint = sha256_fingerprint(pem)
    assert await _version({"host": tls_urls["good"], "ca_fingerprint": fingerprint})
    # any spelling of the fingerprint works
    bare = normalize_fingerprint(fingerprint).lower()
    assert await _version({"host": tls_urls["good"], "ca_fingerprint": bare})


async def test_wrong_fingerprint_is_refused_before_credentials_are_sent(
    fake_es, test_certs, tmp_path
):
    """stunnel in front of the FAKE, so we can see that no request reached it."""
    with stunnel({"fake": test_certs.good}, fake_es.url, tmp_path) as urls:
        wrong = sha256_fingerprint(test_certs.self_signed.leaf)
        settings = {
            "host": urls["fake"],
            "ca_fingerprint": wrong,
            "username": "elastic",
            "password": "do-not-send-me",
        }
        with pytest.raises(TlsError, match="no certificate with the pinned fingerprint") as err:
            await _version(settings)
        assert "do-not-send-me" not in str(err.value)
        assert all("authorization" not in r.headers for r in fake_es.requests)


async def test_pin_certificate_saves_a_pem_usable_as_ca_certs(tls_urls, tmp_path):
    chain = await fetch_certificate_chain(tls_urls["self_signed"])
    pinned = await pin_certificate(
        tls_urls["self_signed"], chain[0].sha256_fingerprint, tmp_path / "pins" / "es.pem"
    )
    assert pinned.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert sha256_fingerprint(pinned) == chain[0].sha256_fingerprint
    assert await _version({"host": tls_urls["self_signed"], "ca_certs": str(pinned)})


async def test_save_pinned_ca_writes_a_ca_file_elastics_service_can_use(
    tls_urls, test_certs, tmp_path, monkeypatch
):
    """For Elastic's service (no ca_fingerprint): the CA matching the fingerprint, next to
    config.yml, world-readable, named after the host; it verifies the server on its own."""
    monkeypatch.chdir(tmp_path)
    umask = os.umask(0o077)  # even under a strict umask: the service may run as another user
    try:
        fingerprint = sha256_fingerprint(test_certs.ca)
        path = await save_pinned_ca(tls_urls["good"], fingerprint.replace(":", ""), "conf")
    finally:
        os.umask(umask)
    port = urlsplit(tls_urls["good"]).port
    assert path == tmp_path / "conf" / f"127.0.0.1-{port}-ca.pem" and path.is_absolute()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sha256_fingerprint(path) == fingerprint
    # The PEM alone (no fingerprint) verifies the TLS proxy, as Elastic's client would use it.
    assert await _version({"host": tls_urls["good"], "ca_certs": str(path)})


def test_ca_file_name_is_derived_from_the_host():
    assert ca_file_name("https://es.example.com:9243") == "es.example.com-9243-ca.pem"
    assert ca_file_name("https://user:pw@es.example.com") == "es.example.com-443-ca.pem"
    assert ca_file_name("https://[::1]:9200") == "_1-9200-ca.pem"


async def test_pin_certificate_refuses_a_fingerprint_not_in_the_chain(
    tls_urls, test_certs, tmp_path
):
    wrong = sha256_fingerprint(test_certs.ca)  # the self-signed server doesn't present it
    with pytest.raises(CertificateError, match="presented no certificate"):
        await pin_certificate(tls_urls["self_signed"], wrong, tmp_path / "es.pem")
    assert not (tmp_path / "es.pem").exists()


async def test_fetching_from_http_or_a_dead_port_is_a_clear_error():
    with pytest.raises(CertificateError, match="not an https:// address"):
        await fetch_certificate_chain("http://127.0.0.1:9200")
    with pytest.raises(CertificateError, match="could not fetch the certificate"):
        await fetch_certificate_chain("https://127.0.0.1:9", timeout=2)


def test_fingerprint_spellings():
    digest = "ab" * 32
    assert normalize_fingerprint(digest) == "AB" * 32
    assert format_fingerprint(digest) == ":".join(["AB"] * 32)
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        normalize_fingerprint("AB:CD")


def test_trust_is_offered_only_for_an_untrusted_https_certificate():
    from sluice.core.es.tls import trust_offer_applies

    assert trust_offer_applies("https://es:9200", tls_failed=True, field="ca_certs")
    assert trust_offer_applies(" HTTPS://es:9200", tls_failed=True, field="ca_certs")
    assert not trust_offer_applies("http://es:9200", tls_failed=True, field="ca_certs")
    assert not trust_offer_applies("https://es:9200", tls_failed=False, field="ca_certs")
    # a wrong client setting (or no field) is not fixed by trusting the server's certificate
    assert not trust_offer_applies("https://es:9200", tls_failed=True, field="verify_certs")
    assert not trust_offer_applies("https://es:9200", tls_failed=True, field=None)


def test_the_certificate_offered_is_the_top_of_the_chain():
    from datetime import UTC, datetime

    from sluice.core.es.tls import CertInfo, certificate_to_offer

    def cert(name: str, is_ca: bool) -> CertInfo:
        now = datetime.now(UTC)
        return CertInfo(name, "ca", "AA:" * 31 + "AA", now, now, is_ca)

    leaf, ca = cert("leaf", False), cert("ca", True)
    assert certificate_to_offer([leaf, ca]) is ca
    assert certificate_to_offer([leaf]) is leaf  # self-signed: the server's own
    assert certificate_to_offer([]) is None
