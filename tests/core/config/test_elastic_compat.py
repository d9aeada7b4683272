"""What Elastic's own service would make of the `elasticsearch` section: the keys it does not
read (bearer_auth, ca_fingerprint) and feature_use_connectors_api on a cluster without the
Connector API."""

from __future__ import annotations

import pytest

from sluice.core.config import config_from_text, load_config
from sluice.core.config.elastic_compat import (
    FLAG,
    connectors_api_incompatibility,
    flag_for_cluster,
    unreadable_settings,
    wants_index_mode,
)

FINGERPRINT = "AB:" * 31 + "CD"


def test_a_bearer_token_alone_means_elastic_changeme_to_elastics_service():
    (problem,) = unreadable_settings({"host": "https://es:9200", "bearer_auth": "tok"})
    assert problem.key == "bearer_auth"
    assert "does not read" in problem.message and "elastic/changeme" in problem.message
    assert "elasticsearch.api_key" in problem.fix


def test_a_bearer_token_next_to_username_means_that_user_to_elastics_service():
    es = {"bearer_auth": "tok", "username": "ingest", "password": "pw"}
    (problem,) = unreadable_settings(es)
    assert "as user 'ingest'" in problem.message


def test_a_fingerprint_alone_on_https_means_the_system_cas_to_elastics_service():
    (problem,) = unreadable_settings({"host": "https://es:9200", "ca_fingerprint": FINGERPRINT})
    assert problem.key == "ca_fingerprint"
    assert "system" in problem.message
    assert "elasticsearch.ca_certs" in problem.fix


def test_a_fingerprint_with_verify_certs_false_says_any_certificate_is_accepted():
    es = {"host": "https://es:9200", "ca_fingerprint": FINGERPRINT, "verify_certs": False}
    (problem,) = unreadable_settings(es)
    assert "accepts any certificate" in problem.message
    assert problem.fix.startswith("set verify_certs: true")


@pytest.mark.parametrize(
    "es",
    [
        {"bearer_auth": "tok", "api_key": "a2V5"},  # api_key wins in both
        {"host": "https://es:9200", "ca_fingerprint": FINGERPRINT, "ca_certs": "/ca.pem"},
        {"host": "http://es:9200", "ca_fingerprint": FINGERPRINT},  # no TLS at all
        {"ca_fingerprint": FINGERPRINT},  # Elastic's default host is http://localhost:9200
        {"host": "https://es:9200", "api_key": "a2V5"},
    ],
)
def test_harmless_combinations_say_nothing(es):
    assert unreadable_settings(es) == []


def test_loaded_config_warns_at_the_line_of_each_unread_key(write):
    path = write(
        "elasticsearch:\n"
        "  host: https://es.example.com:9200\n"
        "  bearer_auth: s3cr3t-b34r3r\n"
        f"  ca_fingerprint: {FINGERPRINT}\n"
    )
    warnings = {p.key: p for p in load_config(path, environ={}).warnings}
    assert warnings["elasticsearch.bearer_auth"].line == 3
    assert warnings["elasticsearch.ca_fingerprint"].line == 4
    text = str(warnings["elasticsearch.bearer_auth"])
    assert text.startswith(f"{path}:3:3: warning: elasticsearch.bearer_auth: Elastic's service")
    assert "s3cr3t" not in text  # the value is never quoted


def test_flag_on_a_cluster_without_the_connector_api():
    for es in ({}, {FLAG: True}):
        problem = connectors_api_incompatibility(es, connector_api=False)
        assert problem is not None and problem.key == FLAG
        assert "fail at check-in" in problem.message
        assert f"set elasticsearch.{FLAG}: false" in problem.fix
    assert connectors_api_incompatibility({FLAG: False}, connector_api=False) is None
    assert connectors_api_incompatibility({}, connector_api=True) is None
    assert connectors_api_incompatibility({}, connector_api=None) is None


def test_flag_to_write_and_what_it_asks_of_sluice():
    assert flag_for_cluster(False) is False
    assert flag_for_cluster(True) is None  # left out: Elastic's default, true
    assert flag_for_cluster(None) is None
    assert wants_index_mode({FLAG: False})
    assert (
        not wants_index_mode({FLAG: True})
        and not wants_index_mode({})
        and not wants_index_mode(None)
    )
    loaded = config_from_text(f"elasticsearch.{FLAG}: false\n", environ={})
    assert wants_index_mode(loaded.elasticsearch)
    assert not wants_index_mode(config_from_text("", environ={}).elasticsearch)
