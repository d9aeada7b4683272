"""Reading config.yml as Elastic's service reads it: defaults, dotted == nested, `${VAR}`."""

from __future__ import annotations

import pytest

from sluice.core.config import (
    DEFAULTS,
    ELASTIC_SOURCES,
    ConfigError,
    config_from_text,
    load_config,
)
from sluice.core.config.loader import config_from_mapping


def leaves(data, prefix=""):
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and key != "sources":
            yield from leaves(value, path + ".")
        else:
            yield path, value


def test_elastic_example_loads_without_warnings(elastic_example):
    config = load_config(elastic_example, environ={})

    assert config.warnings == []
    values = dict(leaves(config.data))
    for path, default in leaves(DEFAULTS):
        if path.endswith("log_level"):
            assert values[path].upper() == default.upper(), path
        elif path != "extraction_service":
            assert values[path] == default, path
    assert config.elasticsearch["api_key"] is None
    assert config.extraction_service == {
        "host": None,
        "timeout": 30,
        "use_file_pointers": False,
        "stream_chunk_size": 65536,
        "shared_volume_dir": "/app/files",
    }


def test_an_empty_file_means_elastic_defaults():
    config = config_from_text("", environ={})
    assert config.data == DEFAULTS
    assert config.elasticsearch["host"] == "http://localhost:9200"
    assert config.elasticsearch["request_timeout"] == 240
    assert config.bulk == DEFAULTS["elasticsearch"]["bulk"]
    assert config.bulk["chunk_size"] == 500
    assert config.bulk["chunk_max_mem_size"] == 3
    assert config.service["max_file_download_size"] == 10485760
    assert config.service["log_level"] == "INFO"
    assert config.connectors == []
    assert config.sources == ELASTIC_SOURCES
    assert config.extraction_service is None


def test_dotted_and_nested_keys_are_the_same():
    dotted = config_from_text(
        "elasticsearch.host: https://es:9200\n"
        "elasticsearch.bulk.chunk_size: 100\n"
        "service.idling: 5\n",
        environ={},
    )
    nested = config_from_text(
        "elasticsearch:\n  host: https://es:9200\n  bulk:\n    chunk_size: 100\n"
        "service:\n  idling: 5\n",
        environ={},
    )
    mixed = config_from_text(
        "elasticsearch:\n  host: https://es:9200\nelasticsearch.bulk:\n  chunk_size: 100\n"
        "service.idling: 5\n",
        environ={},
    )
    assert dotted.data == nested.data == mixed.data
    assert nested.bulk["max_concurrency"] == 5  # defaults still merged below a set key


def test_environment_substitution_with_defaults_and_types():
    text = (
        "elasticsearch.host: ${ES_URL}\n"
        "elasticsearch.api_key: ${SLUICE_ES_API_KEY}\n"
        "elasticsearch.request_timeout: ${TIMEOUT|30}\n"
        "elasticsearch.verify_certs: ${VERIFY|true}\n"
        "service.log_level: $LOG_LEVEL|DEBUG\n"
        "elasticsearch.username: ${EMPTY}\n"
    )
    env = {"ES_URL": "https://es.example:9243", "SLUICE_ES_API_KEY": "a2V5", "EMPTY": "bob"}
    config = config_from_text(text, environ=env)

    assert config.elasticsearch["host"] == "https://es.example:9243"
    assert config.elasticsearch["api_key"] == "a2V5"
    assert config.elasticsearch["request_timeout"] == 30
    assert config.elasticsearch["verify_certs"] is True
    assert config.service["log_level"] == "DEBUG"
    assert config.elasticsearch["username"] == "bob"

    overridden = config_from_text(text, environ={**env, "TIMEOUT": "90", "VERIFY": "false"})
    assert overridden.elasticsearch["request_timeout"] == 90
    assert overridden.elasticsearch["verify_certs"] is False


def test_dollar_escape_and_comment_lines():
    text = (
        "# ${NOT_SET} in a full-line comment is ignored, as by Elastic's service\n"
        "elasticsearch.password: 'pa$$word'\n"
    )
    config = config_from_text(text, environ={})
    assert config.elasticsearch["password"] == "pa$word"


def test_unset_variable_tolerated_when_elastic_would_tolerate_it():
    config = config_from_text(
        "elasticsearch.api_key: ${NOPE}\n", environ={"ENVYAML_STRICT_DISABLE": "1"}
    )
    assert config.elasticsearch["api_key"] == "${NOPE}"
    assert [w.severity for w in config.warnings] == ["warning"]


def test_load_config_reads_os_environ_by_default(write, monkeypatch):
    monkeypatch.setenv("SLUICE_TEST_HOST", "https://from-env:9200")
    config = load_config(write("elasticsearch.host: ${SLUICE_TEST_HOST}\n"))
    assert config.elasticsearch["host"] == "https://from-env:9200"


def test_connectors_as_elastic_runs_them():
    text = (
        "connectors:\n"
        "  - connector_id: 1234\n"
        "    service_type: mysql\n"
        "  - connector_id: abc\n"
        "    service_type: dir\n"
        "  - connector_id: '1234'\n"
        "    service_type: postgresql\n"
        "    api_key: c2NvcGVk\n"
    )
    config = config_from_text(text, label="config.yml", environ={})
    assert config.connectors == [
        {"connector_id": "1234", "service_type": "postgresql", "api_key": "c2NvcGVk"},
        {"connector_id": "abc", "service_type": "dir"},
    ]
    assert config.connector("abc") == {"connector_id": "abc", "service_type": "dir"}
    assert config.connector("zzz") is None
    assert [str(w) for w in config.warnings] == [
        "config.yml:6:5: warning: connectors[2]: connector `1234` is listed twice (also as "
        "connectors[0]); the later entry wins, as in Elastic's service"
    ]


def test_sources_merge_over_elastic_builtins():
    config = config_from_text("sources.mysql: sluice_sources.mysql:MySQLSource\n", environ={})
    assert config.sources["mysql"] == "sluice_sources.mysql:MySQLSource"
    assert config.sources["dir"] == ELASTIC_SOURCES["dir"]
    assert config.custom_sources == {"mysql": "sluice_sources.mysql:MySQLSource"}


def test_sluice_only_keys_are_known():
    config = config_from_text(
        "elasticsearch.ca_fingerprint: " + "AB:" * 31 + "CD\nelasticsearch.bearer_auth: dG9r\n",
        environ={},
    )
    # Known to Sluice (no "unknown key"); the token is one Elastic's service would not read
    # (the fingerprint is moot on Elastic's default http:// host).
    assert [p.key for p in config.warnings] == ["elasticsearch.bearer_auth"]
    assert "unknown" not in str(config.warnings[0])
    assert config.elasticsearch["bearer_auth"] == "dG9r"


def test_from_mapping_applies_the_same_rules():
    config = config_from_mapping(
        {
            "elasticsearch.host": "${HOST}",
            "elasticsearch.bulk.chunk_size": "${CHUNK|250}",
            "connectors": [{"connector_id": "c1", "service_type": "dir"}],
        },
        environ={"HOST": "https://es:9200"},
    )
    assert config.elasticsearch["host"] == "https://es:9200"
    assert config.bulk["chunk_size"] == 250
    assert config.connectors == [{"connector_id": "c1", "service_type": "dir"}]
    assert config.path is None

    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"elasticsearch": {"bulk": {"chunk_size": 0}}}, path="mem.yml")
    assert str(caught.value) == (
        "mem.yml: elasticsearch.bulk.chunk_size: must be an integer between 1 and 10000 (got 0)"
    )


def test_secrets_stay_out_of_repr_and_errors():
    secret = "c3VwZXJzZWNyZXRrZXkxMjM0NTY3ODkw"
    config = config_from_text(
        f"elasticsearch.host: https://user:pw@es:9200\nelasticsearch.api_key: {secret}\n"
        f"connectors:\n  - connector_id: a\n    service_type: dir\n    api_key: {secret}\n",
        environ={},
    )
    assert secret not in repr(config)
    assert "pw" not in repr(config)
    redacted = config.redacted()
    assert redacted["elasticsearch"]["api_key"] == "********"
    assert redacted["connectors"][0]["api_key"] == "********"
    assert config.elasticsearch["api_key"] == secret  # the data itself is intact

    with pytest.raises(ConfigError) as caught:
        config_from_text(f"elasticsearch.password: [{secret}]\n", environ={})
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value)
