"""build_client: credentials on the wire, settings errors that name the key, proxies from the
environment, and secrets kept out of reprs, errors and logs."""

from __future__ import annotations

import base64
import logging

import pytest
from elasticsearch import AuthenticationException

from sluice.core.es import ConnectionSettingsError, build_client

SECRET = "s3cret-Passw0rd-xyz"


async def _info(settings):
    client = build_client(settings)
    try:
        return await client.info()
    finally:
        await client.close()


async def test_api_key_encoded_form_is_sent_as_is(fake_es):
    encoded = fake_es.add_api_key("kid1", "ksecret1", "connector-key", "elastic", cluster={"all"})
    body = await _info({"host": fake_es.url, "api_key": encoded})
    assert body["version"]["number"] == fake_es.cluster.version
    assert fake_es.requests[-1].headers["authorization"] == f"ApiKey {encoded}"


async def test_api_key_id_colon_secret_form_is_encoded(fake_es):
    encoded = fake_es.add_api_key("kid2", "ksecret2", "k", "elastic", cluster={"all"})
    await _info({"host": fake_es.url, "api_key": "kid2:ksecret2"})
    assert fake_es.requests[-1].headers["authorization"] == f"ApiKey {encoded}"


async def test_basic_auth_and_api_key_precedence(fake_es):
    fake_es.add_user("elastic", SECRET, cluster={"all"})
    await _info({"host": fake_es.url, "username": "elastic", "password": SECRET})
    expected = base64.b64encode(f"elastic:{SECRET}".encode()).decode()
    assert fake_es.requests[-1].headers["authorization"] == f"Basic {expected}"

    encoded = fake_es.add_api_key("kid3", "ksecret3", "k", "elastic", cluster={"all"})
    await _info(
        {"host": fake_es.url, "api_key": encoded, "username": "elastic", "password": SECRET}
    )
    assert fake_es.requests[-1].headers["authorization"].startswith("ApiKey ")


async def test_bearer_token(fake_es):
    from tests.fakes.fake_security import Principal

    fake_es.cluster.tokens["tok-123456"] = Principal("svc", cluster={"all"})
    await _info({"host": fake_es.url, "bearer_auth": "tok-123456"})
    assert fake_es.requests[-1].headers["authorization"] == "Bearer tok-123456"


async def test_user_agent_and_rejected_password_without_secret_in_error(fake_es):
    fake_es.add_user("elastic", "right-password", cluster={"all"})
    client = build_client(
        {"host": fake_es.url, "username": "elastic", "password": SECRET}, user_agent="sluice/9"
    )
    try:
        with pytest.raises(AuthenticationException) as caught:
            await client.info()
    finally:
        await client.close()
    assert fake_es.requests[-1].headers["user-agent"] == "sluice/9"
    assert caught.value.meta.status == 401
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)


def test_repr_never_shows_secrets():
    client = build_client(
        {"host": f"http://elastic:{SECRET}@127.0.0.1:9200", "api_key": "AbCdEfGhIjKlMnOp=="}
    )
    text = repr(client) + repr(client.transport.node_pool.get().config)
    assert SECRET not in text
    assert "AbCdEfGhIjKlMnOp" not in text


@pytest.mark.parametrize(
    ("settings", "field", "words"),
    [
        ({"host": "localhost:9200"}, "host", "https://HOST:PORT"),
        ({"host": f"https://elastic:{SECRET}@es:port"}, "host", "invalid port"),
        ({"host": "https://es:9200", "ca_certs": "/nonexistent/ca.crt"}, "ca_certs", "exist"),
        ({"host": "https://es:9200", "ca_fingerprint": "12:34"}, "ca_fingerprint", "64"),
        ({"host": "http://es:9200", "request_timeout": "soon"}, "request_timeout", "number"),
        ({"host": "http://es:9200", "max_retries": -2}, "max_retries", "negative"),
    ],
)
def test_unusable_settings_name_the_key(settings, field, words, tmp_path):
    with pytest.raises(ConnectionSettingsError) as caught:
        build_client(settings)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"elasticsearch.{field}: ")
    assert words in str(caught.value)
    assert SECRET not in str(caught.value)


def test_ca_certs_file_without_certificate_is_reported(tmp_path):
    bogus = tmp_path / "ca.crt"
    bogus.write_text("not a certificate\n")
    with pytest.raises(ConnectionSettingsError, match="holds no PEM certificate") as caught:
        build_client({"host": "https://es:9200", "ca_certs": str(bogus)})
    assert caught.value.field == "ca_certs"


async def test_proxy_from_environment_is_used(fake_es, monkeypatch):
    """HTTP_PROXY routes the request through the proxy (the fake answers as a forward proxy);
    the host name itself need not resolve here."""
    monkeypatch.setenv("HTTP_PROXY", fake_es.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    fake_es.cluster.security = "off"
    body = await _info({"host": "http://es.sluice-test.invalid:9200"})
    assert body["version"]["number"]
    assert fake_es.requests[-1].via_proxy


async def test_no_proxy_bypasses_the_proxy(fake_es, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    fake_es.cluster.security = "off"
    await _info({"host": fake_es.url})
    assert not fake_es.requests[-1].via_proxy


async def test_debug_logging_never_shows_credentials_or_bodies(fake_es, caplog):
    fake_es.add_user("elastic", SECRET, cluster={"all"})
    with caplog.at_level(logging.DEBUG):
        await _info({"host": fake_es.url, "username": "elastic", "password": SECRET})
    encoded = base64.b64encode(f"elastic:{SECRET}".encode()).decode()
    assert SECRET not in caplog.text and encoded not in caplog.text
    assert "cluster_name" not in caplog.text  # response bodies stay out of the log


# ---- non-ASCII credentials: text in, UTF-8 on the wire, never a crash -----------------------

NON_ASCII_PASSWORD = "pässwörd🔑-canary"


@pytest.mark.parametrize("user", ["elastic", "élodie", "用户"])
async def test_non_ascii_basic_credentials_are_sent_as_utf8(fake_es, user):
    fake_es.add_user(user, NON_ASCII_PASSWORD, cluster={"all"})
    body = await _info({"host": fake_es.url, "username": user, "password": NON_ASCII_PASSWORD})
    assert body["version"]["number"] == fake_es.cluster.version
    expected = base64.b64encode(f"{user}:{NON_ASCII_PASSWORD}".encode()).decode()
    assert fake_es.requests[-1].headers["authorization"] == f"Basic {expected}"


async def test_wrong_non_ascii_password_is_a_plain_401(fake_es):
    fake_es.add_user("elastic", "right", cluster={"all"})
    with pytest.raises(AuthenticationException) as caught:
        await _info({"host": fake_es.url, "username": "elastic", "password": "wrongpässwörd🔑"})
    assert "wrongpässwörd" not in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"api_key": "clé-🔑-canary"}, "api_key"),
        ({"api_key": "two words"}, "api_key"),
        ({"bearer_auth": "tökén-canary"}, "bearer_auth"),
        ({"username": "a:b", "password": "x"}, "username"),
        ({"username": "elastic", "password": "line\nbreak-canary"}, "password"),
    ],
)
def test_credentials_that_cannot_be_sent_name_the_field(settings, field):
    with pytest.raises(ConnectionSettingsError) as caught:
        build_client({"host": "http://127.0.0.1:9", **settings})
    assert caught.value.field == field
    message = str(caught.value)
    assert message.startswith(f"elasticsearch.{field}: ")
    assert "\n" not in message
    for value in settings.values():
        assert value not in message or value == "elastic"


def test_a_huge_endpoint_is_not_echoed_whole():
    host = "h" * 3000
    with pytest.raises(ConnectionSettingsError) as caught:
        build_client({"host": host})
    assert caught.value.field == "host" and len(str(caught.value)) < 200
