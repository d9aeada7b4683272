"""Editing config.yml in place: comments, order, quoting and style survive."""

from __future__ import annotations

import pytest

from sluice.core.config import ConfigDocument, ConfigError, config_from_text, new_config_text

DOTTED = """\
# Production connectors
elasticsearch.host: https://es.example:9200   # the cluster
elasticsearch.api_key: ${SLUICE_ES_API_KEY}

# bulk tuning, measured 2024-05
elasticsearch.bulk.chunk_size: 400

connectors:
  # the HR database
  - connector_id: abc
    service_type: mysql   # MariaDB 10.11
  - connector_id: 'def'
    service_type: postgresql

# Kept for later:
#service.idling: 10
"""

NESTED = """\
elasticsearch:
    host: "https://es.example:9200"
    # basic auth until the API key is issued
    username: sluice
    password: ${ES_PASSWORD}

connectors:
- connector_id: one
  service_type: dir   # shared drive

service:
    idling: 15
"""


def added_and_removed(document: ConfigDocument) -> tuple[list[str], list[str]]:
    lines = document.diff(mask_secrets=False).splitlines()[2:]
    added = [ln[1:] for ln in lines if ln.startswith("+")]
    removed = [ln[1:] for ln in lines if ln.startswith("-")]
    return added, removed


@pytest.mark.parametrize("text", [DOTTED, NESTED])
def test_untouched_document_renders_byte_for_byte(text):
    assert ConfigDocument(text).render() == text


def test_elastic_example_renders_byte_for_byte(elastic_example):
    text = elastic_example.read_text()
    assert ConfigDocument(text).render() == text


def test_adding_a_connector_only_adds_its_lines():
    document = ConfigDocument(DOTTED)
    document.upsert_connector("ghi", "s3", api_key="${SLUICE_GHI_KEY}")

    assert added_and_removed(document) == (
        ["  - connector_id: ghi", "    service_type: s3", "    api_key: ${SLUICE_GHI_KEY}"],
        [],
    )
    rendered = document.render()
    assert rendered.endswith(
        "    service_type: postgresql\n"
        "  - connector_id: ghi\n"
        "    service_type: s3\n"
        "    api_key: ${SLUICE_GHI_KEY}\n"
        "\n# Kept for later:\n#service.idling: 10\n"
    )
    assert config_from_text(rendered, environ={"SLUICE_GHI_KEY": "k"}, resolve_secrets=False)


def test_updating_a_connector_keeps_its_place_quotes_and_comments():
    document = ConfigDocument(DOTTED)
    document.upsert_connector("def", "dir", api_key="a2V5")
    document.upsert_connector("abc", "mariadb")

    assert added_and_removed(document) == (
        ["    service_type: mariadb # MariaDB 10.11", "    service_type: dir", "    api_key: a2V5"],
        ["    service_type: mysql   # MariaDB 10.11", "    service_type: postgresql"],
    )
    assert [c["connector_id"] for c in document.connectors] == ["abc", "def"]


def test_adding_to_nested_style_keeps_its_indentation():
    document = ConfigDocument(NESTED)
    document.upsert_connector("two", "mysql")

    assert added_and_removed(document) == (
        ["- connector_id: two", "  service_type: mysql"],
        [],
    )


def test_removing_a_connector_keeps_the_rest():
    document = ConfigDocument(DOTTED)
    assert document.remove_connector("def") is True
    assert document.remove_connector("nope") is False

    added, removed = added_and_removed(document)
    assert removed == ["  - connector_id: 'def'", "    service_type: postgresql"]
    assert added == []
    assert document.render().endswith("# MariaDB 10.11\n\n# Kept for later:\n#service.idling: 10\n")


def test_set_follows_the_dotted_style_of_the_file():
    document = ConfigDocument(DOTTED)
    document.set("elasticsearch.host", "https://other:9200")
    document.set("elasticsearch.bulk.max_concurrency", 8)
    document.set("elasticsearch.ca_certs", "/etc/ssl/es-ca.pem")
    document.set("service.idling", 20)

    rendered = document.render()
    assert rendered.startswith(
        "# Production connectors\n"
        "elasticsearch.host: https://other:9200        # the cluster\n"  # comment column kept
        "elasticsearch.api_key: ${SLUICE_ES_API_KEY}\n"
        "\n"
        "# bulk tuning, measured 2024-05\n"
        "elasticsearch.bulk.chunk_size: 400\n"
        "elasticsearch.bulk.max_concurrency: 8\n"
        "elasticsearch.ca_certs: /etc/ssl/es-ca.pem\n"
        "\n"
        "connectors:\n"
    )
    assert rendered.endswith(
        "    service_type: postgresql\nservice.idling: 20\n\n# Kept for later:\n"
        "#service.idling: 10\n"
    )
    assert document.get("service.idling") == 20
    assert document.get("elasticsearch")["bulk"] == {"chunk_size": 400, "max_concurrency": 8}


def test_set_follows_the_nested_style_of_the_file():
    document = ConfigDocument(NESTED)
    document.set("elasticsearch.host", "https://other:9200")
    document.set("elasticsearch.bulk.chunk_size", 100)
    document.set("extraction_service.host", "http://localhost:8090")

    assert document.render() == (
        "elasticsearch:\n"
        '    host: "https://other:9200"\n'
        "    # basic auth until the API key is issued\n"
        "    username: sluice\n"
        "    password: ${ES_PASSWORD}\n"
        "    bulk:\n"
        "        chunk_size: 100\n"
        "\n"
        "connectors:\n"
        "- connector_id: one\n"
        "  service_type: dir   # shared drive\n"
        "\n"
        "service:\n"
        "    idling: 15\n"
        "extraction_service:\n"
        "    host: http://localhost:8090\n"
    )


def test_unset_removes_a_key_wherever_it_is_written():
    document = ConfigDocument(DOTTED)
    assert document.unset("elasticsearch.bulk.chunk_size") is True
    assert document.unset("elasticsearch.bulk.chunk_size") is False
    assert document.get("elasticsearch.bulk.chunk_size") is None
    assert "# bulk tuning" in document.render()


def test_empty_document_gets_elastic_style():
    document = ConfigDocument()
    document.set("elasticsearch.host", "http://localhost:9200")
    document.upsert_connector("c1", "dir")
    assert document.render() == (
        "elasticsearch:\n"
        "  host: http://localhost:9200\n"
        "connectors:\n"
        "  - connector_id: c1\n"
        "    service_type: dir\n"
    )


def test_comment_only_file_keeps_its_comments(elastic_example):
    text = "".join(
        "#" + line if line.strip() and not line.startswith("#") else line
        for line in elastic_example.read_text().splitlines(keepends=True)
    )
    document = ConfigDocument(text)
    document.upsert_connector("c1", "mysql")
    rendered = document.render()
    assert rendered.startswith(text)
    assert rendered[len(text) :] == "connectors:\n  - connector_id: c1\n    service_type: mysql\n"


def test_connector_added_to_elastic_example_loads_without_warnings(elastic_example):
    document = ConfigDocument.open(elastic_example)
    document.upsert_connector("conn-1", "mysql", api_key="${SLUICE_CONN_1_KEY}")

    added, removed = added_and_removed(document)
    assert removed == ["connectors: []"]
    assert added == [
        "connectors:",
        "  - connector_id: conn-1",
        "    service_type: mysql",
        "    api_key: ${SLUICE_CONN_1_KEY}",
    ]
    config = config_from_text(document.render(), environ={"SLUICE_CONN_1_KEY": "k"})
    assert config.warnings == []
    assert config.service_problems() == []


def test_diff_masks_plain_secrets_but_not_references():
    document = ConfigDocument(DOTTED)
    document.set("elasticsearch.password", "correct-horse-battery")
    document.upsert_connector("ghi", "s3", api_key="Z2hpLWtleS0xMjM0NTY3OA==")

    diff = document.diff()
    assert "correct-horse-battery" not in diff
    assert "Z2hpLWtleS0xMjM0NTY3OA==" not in diff
    assert "+elasticsearch.password: ********" in diff
    assert "+    api_key: ********" in diff
    assert diff.startswith("--- config.yml (on disk)\n+++ config.yml (new)\n")


def test_plaintext_secret_detection():
    assert ConfigDocument(DOTTED).has_plaintext_secret() is False
    assert ConfigDocument(NESTED).has_plaintext_secret() is False
    document = ConfigDocument(DOTTED)
    document.upsert_connector("x", "dir", api_key="keyring:sluice/connector-x")
    assert document.has_plaintext_secret() is False
    document.upsert_connector("y", "dir", api_key="cGxhaW4=")
    assert document.has_plaintext_secret() is True


def test_invalid_yaml_is_a_config_error_with_position():
    with pytest.raises(ConfigError) as caught:
        ConfigDocument("elasticsearch:\n  host: [\n", "bad.yml")
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == ("bad.yml", 3)
    assert problem.message.startswith("YAML syntax error:")


def test_new_config_text_is_commented_and_valid():
    text = new_config_text(
        {
            "host": "https://es.example:9200",
            "api_key": "keyring:sluice/es-api-key",
            "verify_certs": True,
            "ca_certs": None,
        },
        [
            {"connector_id": "c1", "service_type": "mysql", "api_key": "${SLUICE_C1_KEY}"},
            {"connector_id": 42, "service_type": "dir"},
        ],
    )
    assert text.startswith("# config.yml of Elastic's connector service, written by Sluice.\n")
    assert "# Values written keyring:sluice/<name> are references to the OS keyring" in text
    assert "  # Where Elasticsearch answers.\n  host: https://es.example:9200\n" in text
    assert "ca_certs" not in text
    assert text.endswith(
        "connectors:\n"
        "  - connector_id: c1\n"
        "    service_type: mysql\n"
        "    api_key: ${SLUICE_C1_KEY}\n"
        "  - connector_id: '42'\n"
        "    service_type: dir\n"
    )
    config = config_from_text(text, environ={}, resolve_secrets=False)
    assert [w.message for w in config.warnings] == [
        "environment variable `SLUICE_C1_KEY` is not set; kept as written (secrets are not "
        "needed here)"
    ]
    assert [c["connector_id"] for c in config.connectors] == ["c1", "42"]
    assert config.service_problems() == []


def test_new_config_text_without_keyring_has_no_keyring_note():
    text = new_config_text({"host": "http://localhost:9200"}, [])
    assert "keyring" not in text
    config = config_from_text(text, environ={})
    assert config.warnings == []
    assert config.connectors == []
