"""A hand-written config.yml with a secret in clear and a mode that lets others read it gets
a warning with the fix, from the loader, so every front end shows it (issue 12, item 7)."""

from __future__ import annotations

import os

import pytest

from sluice.core.config import load_config
from sluice.core.secrets import store_secret
from tests.core.secrets.conftest import secret_service  # noqa: F401 - a real Secret Service

HOST = "elasticsearch.host: http://127.0.0.1:9200\n"


def exposure_warnings(path, **env):
    config = load_config(path, environ=env, resolve_secrets=False)
    return [str(w) for w in config.warnings if "plain text" in str(w)]


def test_plaintext_secret_in_a_world_readable_file_is_warned_about(write):
    path = write(HOST + "elasticsearch.api_key: S3cr3tV4lue==\n")
    os.chmod(path, 0o644)
    assert exposure_warnings(path) == [
        f"{path}: warning: holds a secret in plain text (elasticsearch.api_key) and is "
        f"readable by others (mode 0644) — chmod 600 {path}, or move the secret to the "
        "keyring or a ${VAR}"
    ]
    assert all("S3cr3tV4lue" not in w for w in exposure_warnings(path))


def test_group_readable_counts_and_every_secret_is_named(write):
    path = write(
        HOST
        + "elasticsearch.password: hunter22\n"
        + "connectors:\n  - connector_id: c1\n    service_type: dir\n    api_key: k3y\n"
    )
    os.chmod(path, 0o640)
    [warning] = exposure_warnings(path)
    assert "(elasticsearch.password, connectors[0].api_key)" in warning
    assert "(mode 0640)" in warning


@pytest.mark.parametrize(
    "secret",
    [
        "elasticsearch.api_key: ${ES_API_KEY}\n",
        "elasticsearch.api_key: keyring:sluice/elasticsearch.api_key\n",
        "elasticsearch.password: changeme\n",  # Elastic's example placeholder
        "elasticsearch.api_key:\n",
    ],
)
def test_references_placeholders_and_empty_values_are_not_secrets(write, secret):
    path = write(HOST + secret)
    os.chmod(path, 0o644)
    assert exposure_warnings(path, ES_API_KEY="from-the-env") == []


def test_a_private_file_is_fine(write):
    path = write(HOST + "elasticsearch.api_key: S3cr3tV4lue==\n")
    os.chmod(path, 0o600)
    assert exposure_warnings(path) == []


@pytest.mark.usefixtures("secret_service")
def test_secrets_held_in_the_keyring_are_not_plain_text(write):
    """Resolving the references must not make the file as written look like it holds them."""
    reference = store_secret("connector-c1-api-key", "Y29ubmVjdG9yLWtleQ==")
    path = write(
        HOST
        + f"elasticsearch.api_key: {store_secret('es-api-key', 'ZXMta2V5')}\n"
        + f"connectors:\n  - connector_id: c1\n    service_type: dir\n    api_key: {reference}\n"
    )
    os.chmod(path, 0o644)
    config = load_config(path, environ={})
    assert config.connectors[0]["api_key"] == "Y29ubmVjdG9yLWtleQ=="
    assert [str(w) for w in config.warnings if "plain text" in str(w)] == []
