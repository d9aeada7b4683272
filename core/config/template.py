"""A fresh, commented config.yml for Elastic's connector service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from sluice.core.config.document import ConfigDocument
from sluice.core.secrets import parse_reference

HEADER = """\
config.yml of Elastic's connector service, written by Sluice.

Elastic's own service (elastic-ingest) reads this file as is; keys left out take Elastic's
defaults (see config.yml.example in github.com/elastic/connectors). A ${NAME} value is
replaced by the environment variable NAME when the file is read."""

KEYRING_NOTE = """\
Values written keyring:sluice/<name> are references to the OS keyring that only Sluice
resolves; Elastic's service needs them replaced by ${VARIABLES} or values."""

_ES_ORDER = (
    "host",
    "api_key",
    "username",
    "password",
    "bearer_auth",
    "ssl",
    "verify_certs",
    "ca_certs",
    "ca_fingerprint",
    "feature_use_connectors_api",
)
_ES_COMMENTS = {
    "host": "Where Elasticsearch answers.",
    "api_key": "API key for the connector indices (recommended over username/password).",
    "username": "Basic authentication: used only when no api_key is set.",
    "bearer_auth": "Sluice only: a bearer token. Elastic's service ignores this key and logs "
    "in with api_key,\nelse username/password (elastic/changeme when unset).",
    "ca_certs": "CA bundle that signed the cluster's certificate.",
    "ca_fingerprint": "Sluice only: SHA-256 fingerprint of the cluster's CA certificate. "
    "Elastic's service\nignores this key and verifies against ca_certs (else its default CAs).",
    "verify_certs": "Keep true outside tests: false accepts any certificate.",
    "feature_use_connectors_api": "false: this cluster has no Connector API, so Elastic's "
    "service (and Sluice) use the\n.elastic-connectors indices directly; leave the key out "
    "where the cluster has the API.",
}


def new_config_text(
    es_settings: Mapping[str, Any], connectors: Sequence[Mapping[str, Any]] = ()
) -> str:
    """config.yml text with the `elasticsearch` section and the `connectors` list given.

    `connectors` entries are mappings with `connector_id`, `service_type` and optionally
    `api_key`."""
    root = CommentedMap()
    es = CommentedMap()
    for key in sorted(es_settings, key=_es_rank):
        if es_settings[key] is not None:
            es[key] = es_settings[key]
    for key, comment in _ES_COMMENTS.items():
        if key in es:
            es.yaml_set_comment_before_after_key(key, before=comment, indent=2)
    root["elasticsearch"] = es
    entries = CommentedSeq()
    for connector in connectors:
        entry = CommentedMap()
        entry["connector_id"] = str(connector["connector_id"])
        entry["service_type"] = connector["service_type"]
        if connector.get("api_key"):
            entry["api_key"] = connector["api_key"]
        entries.append(entry)
    root["connectors"] = entries
    root.yaml_set_comment_before_after_key(
        "connectors",
        before="\nOne entry per self-managed connector this service runs; ids are shown in "
        "Kibana.\nAn entry's api_key, when set, is used for that connector instead of "
        "elasticsearch.api_key.",
    )
    header = HEADER
    if _has_keyring_reference(es_settings, connectors):
        header += "\n\n" + KEYRING_NOTE
    lines = ("# " + line if line else "#" for line in header.splitlines())
    root.yaml_set_start_comment("\n".join(lines) + "\n\n")
    document = ConfigDocument("")
    document._root = root  # a fresh document: Elastic's indentation style
    return document.render()


def _es_rank(key: str) -> tuple[int, str]:
    return (_ES_ORDER.index(key) if key in _ES_ORDER else len(_ES_ORDER), key)


def _has_keyring_reference(*values: Any) -> bool:
    for value in values:
        if isinstance(value, str) and parse_reference(value):
            return True
        if isinstance(value, Mapping) and _has_keyring_reference(*value.values()):
            return True
        if isinstance(value, list | tuple) and _has_keyring_reference(*value):
            return True
    return False
