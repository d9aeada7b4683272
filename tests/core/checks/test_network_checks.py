"""Connection and TLS checks against real servers: the stand-in, stunnel4 with openssl-made
certificates, and ports where nothing listens. Each TLS problem gets its own message and fix."""

from __future__ import annotations

import pytest

from sluice.core.checks import collect_checks
from tests.servers.certs import sha256_fingerprint


def by_id(results):
    return {r.id: r for r in results}


async def run(settings, **kwargs):
    return by_id(await collect_checks(settings, timeout=5, **kwargs))


async def test_reachable_plain_http_server(es_config):
    results = await run(es_config)
    connection = results["connection"]
    assert connection.status == "ok"
    assert "answered HTTP" in connection.message and "round trip" in connection.message
    if es_config["host"].startswith("http://127.0.0.1"):
        assert results["tls"].status == "skip"
        assert "loopback" in results["tls"].message
    assert {r.status for r in results.values()} <= {"ok", "warn", "skip"}


async def test_connection_refused_skips_every_dependant():
    results = await run({"host": "http://127.0.0.1:9", "max_retries": 0})
    assert results["connection"].status == "fail"
    assert "connection refused" in results["connection"].message
    assert results["connection"].field == "host"
    assert "port" in results["connection"].hint
    for check_id in ("tls", "authentication", "product", "privileges", "index", "pipeline"):
        assert results[check_id].status == "skip"
        assert results[check_id].message == "skipped: Connection and latency failed"


async def test_unknown_host_name():
    results = await run({"host": "http://no-such-host.sluice-test.invalid:9200"})
    assert results["connection"].status == "fail"
    assert "cannot resolve the host name 'no-such-host.sluice-test.invalid'" in (
        results["connection"].message
    )


async def test_https_to_a_plain_http_server(es_config):
    if not es_config["host"].startswith("http://"):
        pytest.skip("needs a plain-http cluster")
    host = es_config["host"].replace("http://", "https://")
    connection = (await run({"host": host}))["connection"]
    assert connection.status == "fail"
    assert "TLS" in connection.message
    assert "http://" in connection.hint


async def test_http_to_a_tls_server(tls_urls):
    host = tls_urls["good"].replace("https://", "http://")
    connection = (await run({"host": host}))["connection"]
    assert connection.status == "fail"
    assert "closed the connection without an HTTP answer" in connection.message
    assert "https://" in connection.hint


async def test_tls_verified_with_ca_certs(tls_urls, test_certs):
    results = await run({"host": tls_urls["good"], "ca_certs": str(test_certs.ca)})
    assert results["tls"].status == "ok"
    assert "verified against ca_certs" in results["tls"].message
    assert "CN=127.0.0.1" in results["tls"].message
    assert results["authentication"].status != "skip"


async def test_tls_unknown_ca(tls_urls, test_certs):
    tls = (await run({"host": tls_urls["good"]}))["tls"]
    assert tls.status == "fail"
    assert tls.message.startswith("the certificate is signed by a CA not trusted")
    assert tls.field == "ca_certs"
    assert sha256_fingerprint(test_certs.ca) in tls.hint  # offered for pinning


async def test_tls_self_signed(tls_urls, test_certs):
    tls = (await run({"host": tls_urls["self_signed"], "ca_certs": str(test_certs.ca)}))["tls"]
    assert tls.status == "fail"
    assert "self-signed certificate" in tls.message
    assert tls.field == "ca_certs"
    assert sha256_fingerprint(test_certs.self_signed.leaf) in tls.hint


async def test_tls_hostname_mismatch(tls_urls, test_certs):
    tls = (await run({"host": tls_urls["wrong_host"], "ca_certs": str(test_certs.ca)}))["tls"]
    assert tls.status == "fail"
    assert tls.message == "the certificate is for es.example.invalid, not 127.0.0.1"
    assert tls.field == "host"


async def test_tls_expired(tls_urls, test_certs):
    tls = (await run({"host": tls_urls["expired"], "ca_certs": str(test_certs.ca)}))["tls"]
    assert tls.status == "fail"
    assert tls.message == "the server's certificate expired on 2020-02-01"
    assert "renew" in tls.hint


async def test_the_four_tls_problems_have_distinct_messages_and_fixes(tls_urls, test_certs):
    outcomes = [(await run({"host": tls_urls["good"]}))["tls"]]
    for scenario in ("self_signed", "wrong_host", "expired"):
        result = await run({"host": tls_urls[scenario], "ca_certs": str(test_certs.ca)})
        outcomes.append(result["tls"])
    assert len({o.message for o in outcomes}) == 4
    assert len({o.hint for o in outcomes}) == 4


async def test_tls_pinned_fingerprint(tls_urls, test_certs):
    good = await run(
        {"host": tls_urls["good"], "ca_fingerprint": sha256_fingerprint(test_certs.ca)}
    )
    assert good["tls"].status == "ok"
    assert "pinned certificate CN=Sluice Test CA" in good["tls"].message
    assert good["product"].status == "ok"

    wrong = sha256_fingerprint(test_certs.self_signed.leaf)
    bad = await run({"host": tls_urls["good"], "ca_fingerprint": wrong})
    assert bad["tls"].status == "fail"
    assert bad["tls"].field == "ca_fingerprint"
    assert bad["authentication"].status == "skip"


async def test_tls_verification_off_is_a_warning(tls_urls):
    results = await run({"host": tls_urls["self_signed"], "verify_certs": False})
    assert results["tls"].status == "warn"
    assert results["tls"].field == "verify_certs"
    assert results["product"].status == "ok"


async def test_missing_ca_file_names_the_field(tls_urls, tmp_path):
    results = await run({"host": tls_urls["good"], "ca_certs": str(tmp_path / "missing.crt")})
    assert results["connection"].status == "fail"
    assert results["connection"].field == "ca_certs"
    assert "does not exist" in results["connection"].message


async def test_secrets_never_appear_in_results(tls_urls):
    secret = "Sup3r-Secret-Value"
    settings = {"host": f"http://elastic:{secret}@127.0.0.1:9", "api_key": f"id:{secret}x"}
    results = await run(settings)
    text = " ".join(f"{r.message} {r.hint}" for r in results.values())
    assert secret not in text
    assert results["connection"].status == "fail"


async def test_unusable_host_says_what_to_write_and_not_where():
    """Typed into the setup wizard, there is no config.yml yet to "fix it in"."""
    results = await run({"host": "h"})
    connection = results["connection"]
    assert connection.status == "fail" and connection.field == "host"
    assert "'h' is not an address; write it as https://HOST:PORT" in connection.message
    assert "config.yml" not in f"{connection.message} {connection.hint}"
