"""Every kind of config mistake, with the exact message a user sees."""

from __future__ import annotations

import pytest

from sluice.core.config import ConfigError, config_from_text, load_config


def problems_of(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_from_text(text, label="config.yml", environ=environ or {})
    return str(caught.value).splitlines()


def warnings_of(text: str, environ: dict[str, str] | None = None) -> list[str]:
    config = config_from_text(text, label="config.yml", environ=environ or {})
    return [str(w) for w in config.warnings]


def test_yaml_syntax_error_has_line_column_and_hint():
    text = "elasticsearch:\n  host: http://x:9200\n   username: bob\n"
    assert problems_of(text) == [
        "config.yml:3:12: YAML syntax error: mapping values are not allowed here — a value "
        "contains ': ' or the indentation is off — put the value in quotes or fix the indentation"
    ]


def test_tab_indentation_is_named():
    assert problems_of("elasticsearch:\n\thost: http://x:9200\n") == [
        "config.yml:2:1: YAML syntax error: found character '\\t' that cannot start any token "
        "— YAML indentation must use spaces, not tabs"
    ]


def test_unclosed_quote():
    assert problems_of('elasticsearch.host: "http://x:9200\nservice.idling: 3\n') == [
        "config.yml:3:1: YAML syntax error: found unexpected end of stream (while scanning a "
        "quoted scalar on line 1) — a quote is not closed"
    ]


def test_wrong_type_names_key_line_and_value():
    assert problems_of("elasticsearch.bulk.chunk_size: abc\n") == [
        "config.yml:1:32: elasticsearch.bulk.chunk_size: must be an integer between 1 and 10000 "
        "(got 'abc')"
    ]


def test_out_of_range_in_nested_style():
    text = "elasticsearch:\n  bulk:\n    chunk_size: 20000\n    max_retries: -1\n"
    assert problems_of(text) == [
        "config.yml:3:17: elasticsearch.bulk.chunk_size: must be an integer between 1 and 10000 "
        "(got 20000)",
        "config.yml:4:18: elasticsearch.bulk.max_retries: must be an integer of at least 0 "
        "(got -1)",
    ]


def test_number_bool_url_and_choice_messages():
    text = (
        "elasticsearch.host: localhost:9200\n"
        "elasticsearch.request_timeout: 0\n"
        "elasticsearch.verify_certs: 'false'\n"
        "service.log_level: verbose\n"
        "service.heartbeat: true\n"
    )
    assert problems_of(text) == [
        "config.yml:1:21: elasticsearch.host: must be a URL starting with http:// or https:// "
        "(got 'localhost:9200')",
        "config.yml:2:32: elasticsearch.request_timeout: must be a number greater than 0 (got 0)",
        "config.yml:3:29: elasticsearch.verify_certs: must be true or false, not the text "
        "'false' — remove the quotes (Elastic's service reads any non-empty text as true)",
        "config.yml:4:20: service.log_level: must be one of NOTSET, DEBUG, INFO, WARN, WARNING, "
        "ERROR, CRITICAL, FATAL (got 'verbose')",
        "config.yml:5:20: service.heartbeat: must be a number greater than 0 (got true)",
    ]


def test_secret_values_are_never_quoted_back():
    text = "elasticsearch.password: 987654321\nelasticsearch.api_key: ['abcdefghijkl']\n"
    lines = problems_of(text)
    assert lines == [
        "config.yml:1:25: elasticsearch.password: must be text (got a number) — put the value "
        "in quotes",
        "config.yml:2:24: elasticsearch.api_key: must be text (got a list)",
    ]
    assert "987654321" not in "\n".join(lines)


def test_unknown_keys_warn_with_the_closest_known_key():
    text = (
        "elasticsearch.apikey: k\n"
        "service.chunk_size: 3\n"
        "connectors:\n"
        "  - connector_id: a\n"
        "    service_type: mysql\n"
        "    apikey: x\n"
        "telemetry: off\n"
    )
    assert warnings_of(text) == [
        "config.yml:1:1: warning: unknown key `elasticsearch.apikey` — did you mean "
        "`elasticsearch.api_key`?",
        "config.yml:2:1: warning: unknown key `service.chunk_size` — did you mean "
        "`elasticsearch.bulk.chunk_size`?",
        "config.yml:6:5: warning: unknown key `connectors[0].apikey` — did you mean "
        "`connectors[0].api_key`?",
        "config.yml:7:1: warning: unknown key `telemetry` — neither Sluice nor Elastic's service "
        "uses it",
    ]


def test_unknown_keys_are_kept():
    config = config_from_text("telemetry: off\nelasticsearch.apikey: k\n", environ={})
    assert config.data["telemetry"] is False
    assert config.elasticsearch["apikey"] == "k"


def test_dotted_key_inside_a_section_is_flagged_like_elastic_reads_it():
    text = "elasticsearch:\n  bulk.chunk_size: 100\n"
    config = config_from_text(text, label="config.yml", environ={})
    assert [str(w) for w in config.warnings] == [
        "config.yml:2:3: warning: elasticsearch.bulk.chunk_size: dotted key `bulk.chunk_size` "
        "inside `elasticsearch` is not read by Elastic's service (it splits dots only at the top "
        "level) — write `elasticsearch.bulk.chunk_size:` at the top level, or nest it under "
        "`elasticsearch`"
    ]
    assert config.bulk["chunk_size"] == 500  # not applied, as in Elastic's service


def test_key_set_twice_warns_and_the_last_wins():
    text = "elasticsearch.host: http://a:9200\nelasticsearch:\n  host: http://b:9200\n"
    config = config_from_text(text, label="config.yml", environ={})
    assert [str(w) for w in config.warnings] == [
        "config.yml:3:3: warning: elasticsearch.host: is set more than once (also set on line "
        "1); the last one wins, as in Elastic's service"
    ]
    assert config.elasticsearch["host"] == "http://b:9200"


def test_connector_entries_need_id_and_service_type():
    text = "connectors:\n  - service_type: mysql\n  - connector_id: abc\n"
    assert problems_of(text) == [
        "config.yml:2:5: connectors[0]: `connector_id` is missing — every entry needs "
        "connector_id and service_type (see Kibana or `sluice connector list`)",
        "config.yml:3:5: connectors[1]: `service_type` is missing — every entry needs "
        "connector_id and service_type (see Kibana or `sluice connector list`)",
    ]


def test_connectors_must_be_a_list():
    assert problems_of("connectors:\n  connector_id: abc\n  service_type: mysql\n") == [
        "config.yml:2:3: connectors: must be a list (got a mapping) — write each entry on its "
        "own line starting with `- `"
    ]


def test_empty_section_is_an_error_elastic_would_crash_on():
    assert problems_of("elasticsearch:\n  # host: http://x:9200\nservice.idling: 3\n") == [
        "config.yml:1:15: elasticsearch: is empty — give it keys or remove the line (Elastic's "
        "service cannot start with an empty section)"
    ]


def test_top_level_must_be_a_mapping():
    assert problems_of("- elasticsearch\n- service\n") == [
        "config.yml:1:1: the file must be a mapping of keys such as `elasticsearch.host: ...` "
        "(found a list)"
    ]


def test_unset_environment_variable_is_an_error_once():
    assert problems_of("elasticsearch.host: ${ES_HOST}\n") == [
        "config.yml:1:21: elasticsearch.host: environment variable `ES_HOST` is not set — "
        "export it, or give a default as ${ES_HOST|value} — Elastic's service refuses to start "
        "too"
    ]


def test_changeme_and_empty_connectors_are_service_problems_only():
    changeme = config_from_text(
        "connectors:\n  - connector_id: changeme\n    service_type: changeme\n",
        label="config.yml",
        environ={},
    )
    assert changeme.warnings == []
    assert [str(p) for p in changeme.service_problems()] == [
        "config.yml:2:19: connectors[0].connector_id: is still the placeholder `changeme` — "
        'Elastic\'s service refuses to start ("Unmodified default configuration detected") — '
        "set the connector's real id and service type (Kibana shows them; so does "
        "`sluice connector list`)",
        "config.yml:3:19: connectors[0].service_type: is still the placeholder `changeme` — "
        'Elastic\'s service refuses to start ("Unmodified default configuration detected") — '
        "set the connector's real id and service type (Kibana shows them; so does "
        "`sluice connector list`)",
    ]
    empty = config_from_text("connectors: []\n", label="config.yml", environ={})
    assert [str(p) for p in empty.service_problems()] == [
        "config.yml:1:13: connectors: no connector is configured — Elastic's service refuses to "
        'start ("You must configure at least one connector") — add one with '
        "`sluice connector create --write-config` or the `sluice` wizard"
    ]
    good = config_from_text("connectors:\n  - connector_id: a1\n    service_type: dir\n")
    assert good.service_problems() == []


def test_problem_fields():
    with pytest.raises(ConfigError) as caught:
        config_from_text("elasticsearch.bulk.chunk_size: abc\n", label="config.yml", environ={})
    [problem] = caught.value.problems
    assert (problem.key, problem.line, problem.column, problem.severity) == (
        "elasticsearch.bulk.chunk_size",
        1,
        32,
        "error",
    )
    assert problem.message == "must be an integer between 1 and 10000 (got 'abc')"
    assert problem.hint is None
    assert caught.value.errors == [problem]


def test_errors_come_with_the_warnings_found_on_the_way():
    with pytest.raises(ConfigError) as caught:
        config_from_text("elasticsearch.apikey: k\nservice.idling: -5\n", environ={})
    assert [p.severity for p in caught.value.problems] == ["error", "warning"]


def test_missing_file_says_how_to_create_one(tmp_path):
    path = tmp_path / "config.yml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: config file not found — create one with `sluice` (the setup wizard) or "
        "`sluice connector create --write-config`"
    )


def test_ca_certs_that_do_not_exist_are_a_warning(write):
    path = write("elasticsearch.ca_certs: /nonexistent/ca.crt\n")
    config = load_config(path, environ={})
    assert [str(w) for w in config.warnings] == [
        f"{path}:1:25: warning: elasticsearch.ca_certs: file not found: /nonexistent/ca.crt — "
        "Elastic's service will fail to connect until the CA file exists there"
    ]
    (path.parent / "ca.crt").write_text("pem")
    assert load_config(write("elasticsearch.ca_certs: ca.crt\n"), environ={}).warnings == []


def test_deprecated_top_level_connector_still_counts():
    config = config_from_text("connector_id: abc\nservice_type: mysql\n", environ={})
    assert config.connectors == [{"connector_id": "abc", "service_type": "mysql"}]
    assert [w.message for w in config.warnings] == [
        "deprecated at the top level — put it in an entry of `connectors` (Elastic's service "
        "still reads it only when `connectors` is empty)"
    ] * 2
