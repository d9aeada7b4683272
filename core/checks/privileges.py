"""May these credentials do the connector's work? Asked up front with `_has_privileges` on the
exact index names, so a missing privilege is named now instead of failing a sync at 3 a.m.

Required (fail when missing): cluster `monitor`, `manage_connector` where it exists (8.15+,
Serverless); read/write/create on the content index and on `.elastic-connectors*` (Elastic's
service still reads and writes those directly). Wanted for setup or optional features (warn):
`manage_api_key` (mint the connector's key), `manage_ingest_pipelines`, `manage` on the
content index (put mappings on an index that has none), and `.search-acl-filter-<index>`
(document-level security).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError

from sluice.core.checks.cluster import (
    CONNECTOR_API,
    MANAGE_CONNECTOR_SINCE,
    SECURITY,
    SERVERLESS,
    VERSION,
)
from sluice.core.checks.context import CheckContext
from sluice.core.checks.failures import error_reason, explain_network_failure, is_missing_api
from sluice.core.checks.index_names import ACL_PREFIX, index_name_problems
from sluice.core.checks.result import Outcome, fail, ok, skip, warn

CONNECTOR_INDICES = ".elastic-connectors*"
DATA_PRIVILEGES = ("read", "write", "create_index", "view_index_metadata")


@dataclass(frozen=True)
class Wanted:
    """One privilege to ask about; `required` decides fail or warn when it is missing."""

    kind: str  # "cluster" or "index"
    privilege: str
    required: bool
    index: str | None = None
    why: str = ""


def wanted_privileges(index_name: str | None, *, manage_connector: bool) -> list[Wanted]:
    wanted = [Wanted("cluster", "monitor", True, why="read cluster state")]
    if manage_connector:
        wanted.append(Wanted("cluster", "manage_connector", True, why="use the Connector API"))
    wanted += [
        Wanted("cluster", "manage_api_key", False, why="mint the connector's API key"),
        Wanted("cluster", "manage_ingest_pipelines", False, why="create ingest pipelines"),
    ]
    wanted += [Wanted("index", p, True, CONNECTOR_INDICES) for p in DATA_PRIVILEGES]
    if index_name and not index_name_problems(index_name):
        wanted += [Wanted("index", p, True, index_name) for p in DATA_PRIVILEGES]
        wanted.append(Wanted("index", "manage", False, index_name, "add mappings"))
        acl = ACL_PREFIX + index_name
        wanted += [
            Wanted("index", p, False, acl, "document-level security") for p in DATA_PRIVILEGES
        ]
    return wanted


def request_body(wanted: list[Wanted]) -> dict[str, Any]:
    cluster = [w.privilege for w in wanted if w.kind == "cluster"]
    by_index: dict[str, list[str]] = {}
    for w in wanted:
        if w.kind == "index" and w.index:
            by_index.setdefault(w.index, []).append(w.privilege)
    index = [
        {"names": [name], "privileges": privileges, "allow_restricted_indices": False}
        for name, privileges in by_index.items()
    ]
    return {"cluster": cluster, "index": index}


def missing(wanted: list[Wanted], answer: dict[str, Any]) -> list[Wanted]:
    cluster = answer.get("cluster") or {}
    index = answer.get("index") or {}
    result = []
    for w in wanted:
        granted = (
            cluster.get(w.privilege)
            if w.kind == "cluster"
            else ((index.get(w.index or "") or {}).get(w.privilege))
        )
        if granted is not True:
            result.append(w)
    return result


def describe(items: list[Wanted]) -> str:
    """ "cluster monitor, manage_connector; search-x: write, read" — every privilege named."""
    groups: dict[str, list[str]] = {}
    for w in items:
        groups.setdefault("cluster" if w.kind == "cluster" else str(w.index), []).append(
            w.privilege
        )
    return "; ".join(
        f"cluster {', '.join(p)}" if name == "cluster" else f"{name}: {', '.join(p)}"
        for name, p in groups.items()
    )


def _supports_manage_connector(ctx: CheckContext) -> bool:
    if ctx.facts.get(SERVERLESS):
        return True
    version = ctx.facts.get(VERSION)
    if version is None:
        return bool(ctx.facts.get(CONNECTOR_API))
    return tuple(version[:2]) >= MANAGE_CONNECTOR_SINCE


async def check_privileges(ctx: CheckContext) -> Outcome:
    state = ctx.facts.get(SECURITY)
    if state in ("off", "absent"):
        return skip(
            f"security is {'off' if state == 'off' else 'not available'}: every request is allowed"
        )
    wanted = wanted_privileges(ctx.index_name, manage_connector=_supports_manage_connector(ctx))
    try:
        response = await ctx.es.security.has_privileges(**request_body(wanted))
    except ApiError as exc:
        reason = error_reason(exc)
        if exc.meta.status == 400 and "unknown cluster privilege [manage_connector]" in reason:
            wanted = [w for w in wanted if w.privilege != "manage_connector"]
            try:
                response = await ctx.es.security.has_privileges(**request_body(wanted))
            except ApiError as again:
                return fail(f"_has_privileges failed: {error_reason(again)}")
        elif is_missing_api(exc):
            return skip("this server has no _has_privileges API")
        else:
            return fail(f"_has_privileges failed: {reason}")
    except TransportError as exc:
        return explain_network_failure(exc, ctx.probe_url, ctx.timeout)
    gaps = missing(wanted, response.body)
    required = [w for w in gaps if w.required]
    optional = [w for w in gaps if not w.required]
    field = "api_key" if ctx.auth.kind in ("api_key", "none") else "username"
    scope = "" if ctx.index_name else " (no index named: content-index privileges not checked)"
    grant = (
        "grant them to the role of these credentials, or use an API key with the connector "
        "role Sluice creates (cluster monitor, manage_connector; indices <index>, "
        f"{ACL_PREFIX}<index>, {CONNECTOR_INDICES}: all)"
    )
    if required:
        extra = f"; also missing for optional features: {describe(optional)}" if optional else ""
        return fail(f"missing: {describe(required)}{extra}", grant, field)
    if optional:
        whys = sorted({w.why for w in optional if w.why})
        return warn(
            f"enough to run the connector{scope}; missing for {', '.join(whys)}: "
            f"{describe(optional)}",
            "fine for running an existing connector; " + grant,
            field,
        )
    return ok(f"all privileges the connector needs are granted{scope}")
