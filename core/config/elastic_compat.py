"""What Elastic's own connector service makes of the `elasticsearch` section Sluice reads.

A config.yml written by Sluice must run under Elastic's service unchanged. Two things can
break that silently:

* `feature_use_connectors_api` (Elastic's default true): the service then checks in through
  `_connector/...`, which fails on a cluster without the Connector API; false makes it use
  the `.elastic-connectors` indices directly. Sluice honours the same key.
* `bearer_auth` and `ca_fingerprint`: Sluice reads them, Elastic's service does not. It then
  logs in with its username/password defaults (elastic/changeme) and verifies the cluster
  against its default CA bundle, without saying so.

This module says which case applies and how to fix it; the wizard, the checks and the loader
show what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sluice.core.config.defaults import DEFAULTS
from sluice.core.config.problems import Problem

FLAG = "feature_use_connectors_api"
#: Keys Sluice reads in `elasticsearch` and Elastic's service ignores.
UNREAD_BY_ELASTIC = ("bearer_auth", "ca_fingerprint")

CHECK_IN_FAILURE = "no handler found for uri [/_connector/<id>/_check_in]"
API_KEY_FIX = (
    "set elasticsearch.api_key, which both read (create an API key in Kibana › Stack "
    "Management › API keys, or with POST _security/api_key)"
)
CA_CERTS_FIX = (
    "save the certificate with that fingerprint as a PEM file and set elasticsearch.ca_certs "
    "to its path (the `sluice` wizard's config step does it; for a new cluster it is "
    "config/certs/http_ca.crt of Elasticsearch); ca_fingerprint may stay for Sluice"
)


@dataclass(frozen=True)
class Incompatibility:
    """A setting Elastic's service would read differently from Sluice: which key, what
    Elastic's service does instead, and the fix."""

    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"elasticsearch.{self.key}: {self.message} — {self.fix}"


def wants_index_mode(es: Mapping[str, Any] | None) -> bool:
    """True when config.yml says `feature_use_connectors_api: false`: Elastic's service then
    uses the connector indices directly, and so must Sluice (one store for both)."""
    return es is not None and es.get(FLAG) is False


def flag_for_cluster(connector_api: bool | None) -> bool | None:
    """What config.yml should say for a cluster: false where it has no Connector API; None
    (leave the key out, Elastic's default true) where it has one or nobody knows."""
    return False if connector_api is False else None


def connectors_api_incompatibility(
    es: Mapping[str, Any], connector_api: bool | None
) -> Incompatibility | None:
    """The flag left true (or absent: Elastic's default) on a cluster without the Connector
    API makes Elastic's service fail at its first check-in."""
    if connector_api is not False or es.get(FLAG, True) is False:
        return None
    return Incompatibility(
        FLAG,
        "is true (Elastic's default when absent) but this cluster has no Connector API: "
        f"Elastic's service would fail at check-in ({CHECK_IN_FAILURE})",
        f"set elasticsearch.{FLAG}: false in config.yml (Sluice then uses the "
        ".elastic-connectors indices too)",
    )


def unreadable_settings(es: Mapping[str, Any]) -> list[Incompatibility]:
    """`bearer_auth` / `ca_fingerprint` where Elastic's service would act differently from
    Sluice. Harmless combinations (an `api_key` next to the token, a `ca_certs` next to the
    fingerprint, plain http) say nothing."""
    found: list[Incompatibility] = []
    if _set(es.get("bearer_auth")) and not _set(es.get("api_key")):
        found.append(Incompatibility("bearer_auth", _bearer_message(es), API_KEY_FIX))
    host = str(es.get("host") or DEFAULTS["elasticsearch"]["host"])
    if (
        _set(es.get("ca_fingerprint"))
        and not _set(es.get("ca_certs"))
        and not host.lower().startswith("http://")
    ):
        if es.get("verify_certs") is False:
            message = (
                "Elastic's service does not read this key: with verify_certs: false it "
                "accepts any certificate the server presents"
            )
            fix = "set verify_certs: true and " + CA_CERTS_FIX
        else:
            message = (
                "Elastic's service does not read this key: it would verify the cluster's "
                "certificate against its default (system) CAs instead, and fail to connect to "
                "a cluster with its own CA"
            )
            fix = CA_CERTS_FIX
        found.append(Incompatibility("ca_fingerprint", message, fix))
    return found


def _bearer_message(es: Mapping[str, Any]) -> str:
    user = es.get("username")
    if _set(user) and es.get("password") is not None:
        who = f"as user {str(user)!r} (username/password) instead"
    else:
        who = "as elastic/changeme (its username/password defaults) instead"
    return f"Elastic's service does not read this key: it would log in {who}"


def _set(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def compat_warnings(
    data: Mapping[str, Any],
    locate: Callable[[tuple[str | int, ...]], tuple[int, int] | None],
    file: str | None,
) -> list[Problem]:
    """`unreadable_settings` of a loaded file as warnings at the key's line (the loader adds
    them to `Config.warnings`, which every command prints)."""
    es = data.get("elasticsearch")
    if not isinstance(es, Mapping):
        return []
    problems = []
    for item in unreadable_settings(es):
        where = locate(("elasticsearch", item.key))
        problems.append(
            Problem(
                key=f"elasticsearch.{item.key}",
                message=item.message,
                hint=item.fix,
                line=where[0] if where else None,
                column=where[1] if where else None,
                severity="warning",
                file=file,
            )
        )
    return sorted(problems, key=lambda p: p.line or 0)  # in file order
