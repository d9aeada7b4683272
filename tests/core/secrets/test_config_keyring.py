"""config.yml `keyring:` references resolved from a real Secret Service at load time."""

from __future__ import annotations

import pytest

from sluice.core.config import ConfigDocument, ConfigError, load_config
from sluice.core.secrets import store_secret

API_KEY = "cXdlcnR5OnVpb3Bhc2RmZ2hqa2w0NTY3ODkwMTIzNA=="
CONNECTOR_KEY = "Y29ubmVjdG9yLWtleS1mb3ItbXlzcWwtMTIzNDU2Nzg="


def write_config(tmp_path, es_key: str, connector_key: str):
    document = ConfigDocument.open(tmp_path / "config.yml")
    document.set("elasticsearch.host", "https://es.example:9200")
    document.set("elasticsearch.api_key", es_key)
    document.upsert_connector("conn-1", "mysql", api_key=connector_key)
    return document.save()


def test_references_resolve_from_the_keyring(secret_service, tmp_path):
    es_ref = store_secret("es-api-key", API_KEY)
    connector_ref = store_secret("connector-conn-1-api-key", CONNECTOR_KEY)
    path = write_config(tmp_path, es_ref, connector_ref)

    assert API_KEY not in path.read_text()
    config = load_config(path, environ={})

    assert config.elasticsearch["api_key"] == API_KEY
    assert config.connector("conn-1")["api_key"] == CONNECTOR_KEY
    assert API_KEY not in repr(config)
    assert config.redacted()["elasticsearch"]["api_key"] == "********"


def test_references_stay_as_written_when_secrets_are_not_needed(secret_service, tmp_path):
    path = write_config(tmp_path, "keyring:sluice/never-stored", "${CONN_KEY}")

    config = load_config(path, environ={}, resolve_secrets=False)

    assert config.elasticsearch["api_key"] == "keyring:sluice/never-stored"
    assert config.connectors[0]["api_key"] == "${CONN_KEY}"
    assert [w.severity for w in config.warnings] == ["warning"]


def test_missing_keyring_entry_is_an_error_naming_the_key(secret_service, tmp_path):
    path = write_config(tmp_path, "keyring:sluice/never-stored", "${CONN_KEY|x}")

    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})

    [problem] = caught.value.problems
    assert problem.key == "elasticsearch.api_key"
    assert problem.line == 3
    assert "the OS keyring has no entry `never-stored` for service `sluice`" in problem.message


def test_no_keyring_backend_is_reported_with_alternatives(no_keyring, tmp_path):
    path = write_config(tmp_path, "keyring:sluice/es-api-key", CONNECTOR_KEY)

    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})

    text = str(caught.value)
    assert "elasticsearch.api_key: cannot read `keyring:sluice/es-api-key`" in text
    assert "No OS keyring is available" in text
    assert CONNECTOR_KEY not in text
