"""Who are we to the cluster, what is it, and which of the features connectors use does it have.

Each check records what it learned in `ctx.facts` (security state, version, Connector API) so
the privilege check can ask exactly the right question.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, AuthenticationException, UnsupportedProductError

from sluice.core.checks.context import DEFAULT_CHECK_TIMEOUT, CheckContext
from sluice.core.checks.failures import (
    error_reason,
    error_type,
    explain_network_failure,
    is_elasticsearch_answer,
    is_missing_api,
    is_security_disabled,
)
from sluice.core.checks.result import Outcome, fail, ok, skip, warn
from sluice.core.config.elastic_compat import FLAG, connectors_api_incompatibility
from sluice.core.es.client import build_client

# Facts keys.
SECURITY = "security"  # "on" | "off" | "absent"
VERSION = "version"  # (major, minor, patch) or None
SERVERLESS = "serverless"
CONNECTOR_API = "connector_api"  # True | False | None (unknown)
AUTHENTICATED = "authenticated"  # the _authenticate answer

CONNECTOR_API_SINCE = (8, 12)
MANAGE_CONNECTOR_SINCE = (8, 15)
LICENSE_WARNING_DAYS = 14


def parse_version(number: str) -> tuple[int, int, int] | None:
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", number or "")
    if not match:
        return None
    return int(match[1]), int(match[2]), int(match[3] or 0)


def _network(ctx: CheckContext, exc: TransportError) -> Outcome:
    return explain_network_failure(exc, ctx.probe_url, ctx.timeout)


def _credentials_hint(ctx: CheckContext) -> tuple[str, str]:
    auth = ctx.auth
    if auth.kind == "api_key":
        return (
            "create a new API key (Kibana › Stack Management › API keys, or Sluice's setup) "
            "and set elasticsearch.api_key",
            "api_key",
        )
    if auth.kind == "bearer":
        return "get a fresh token and set elasticsearch.bearer_auth", "bearer_auth"
    if auth.kind == "basic":
        return "fix elasticsearch.username / elasticsearch.password", "password"
    return "set elasticsearch.api_key (or username and password)", "api_key"


async def _security_state(ctx: CheckContext) -> str:
    """ "off" when `GET _xpack` says security is disabled, "absent" when there is no X-Pack."""
    try:
        info = await ctx.es.xpack.info(categories=["features"])
    except ApiError as exc:
        return "off" if is_security_disabled(exc) else "absent"
    security = (info.body.get("features") or {}).get("security") or {}
    return "on" if security.get("enabled") else "off"


async def check_authentication(ctx: CheckContext) -> Outcome:
    auth = ctx.auth
    try:
        response = await ctx.es.security.authenticate()
    except AuthenticationException as exc:
        hint, field = _credentials_hint(ctx)
        if not is_elasticsearch_answer(exc):
            challenge = exc.meta.headers.get("www-authenticate", "")
            detail = f" ({challenge})" if challenge else ""
            return fail(
                f"a proxy in front of Elasticsearch refused {auth.describe()} (HTTP 401{detail})",
                "use the credentials that proxy expects (elasticsearch.username/password)",
                field,
            )
        if auth.kind == "none":
            return fail("the cluster requires credentials and none are configured", hint, field)
        return fail(f"Elasticsearch rejected {auth.describe()}: {error_reason(exc)}", hint, field)
    except ApiError as exc:
        if is_security_disabled(exc) or is_missing_api(exc):
            state = await _security_state(ctx)
            ctx.facts[SECURITY] = state
            if state == "off":
                return warn(
                    "security is off on this cluster: credentials are not checked and anyone "
                    "who can reach it can read and change every index",
                    "enable it (xpack.security.enabled: true) for anything but a local test",
                )
            return warn(
                "this server has no Security API (not the default distribution of "
                "Elasticsearch): credentials can't be checked",
                "fine for a local test server; use Elasticsearch with security for real data",
            )
        return fail(f"GET _security/_authenticate failed: {error_reason(exc)}")
    except TransportError as exc:
        return _network(ctx, exc)
    body: dict[str, Any] = response.body
    ctx.facts[SECURITY] = "on"
    ctx.facts[AUTHENTICATED] = body
    user = body.get("username", "?")
    if body.get("authentication_type") == "api_key" or body.get("api_key"):
        key = body.get("api_key") or {}
        return ok(f"authenticated with API key {key.get('name') or key.get('id')!r} of {user!r}")
    realm = (body.get("authentication_realm") or {}).get("name", "?")
    if auth.kind == "none":
        return warn(
            f"no credentials configured; the cluster let Sluice in as {user!r} (realm {realm})",
            "set elasticsearch.api_key so the connector has its own identity",
            "api_key",
        )
    return ok(f"authenticated as {user!r} (realm {realm})")


def _advice(version: tuple[int, int, int], number: str) -> Outcome:
    major, minor = version[0], version[1]
    if major >= 10:
        return warn(f"Elasticsearch {number}: newer than Sluice was tested with", None)
    if major == 9 or (major == 8 and (major, minor) >= MANAGE_CONNECTOR_SINCE):
        return ok(f"Elasticsearch {number}")
    if major == 8 and (major, minor) >= CONNECTOR_API_SINCE:
        return ok(
            f"Elasticsearch {number}: job claiming and the manage_connector privilege "
            "arrive in 8.15"
        )
    if major == 8:
        return warn(
            f"Elasticsearch {number} has no Connector API (8.12+): Sluice works on the "
            "connector indices directly, which Elastic deprecates",
            "upgrade to 8.15 or later",
        )
    return fail(
        f"Elasticsearch {number} is not supported: connectors need 8.x or 9.x",
        "upgrade the cluster to 8.15 or later",
    )


async def check_product(ctx: CheckContext) -> Outcome:
    try:
        response = await ctx.es.info()
    except UnsupportedProductError:
        return fail(
            "the server is not Elasticsearch (no X-Elastic-Product header)",
            "point elasticsearch.host at an Elasticsearch cluster (OpenSearch is not supported)",
            "host",
        )
    except ApiError as exc:
        if exc.meta.status == 403:
            return warn(
                "the credentials may not read the cluster's version (GET / needs cluster "
                "privilege monitor)",
                "grant cluster privilege monitor",
            )
        return fail(f"GET / failed: {error_reason(exc)}")
    except TransportError as exc:
        return _network(ctx, exc)
    version_info = response.body.get("version") or {}
    number = str(version_info.get("number", "?"))
    if version_info.get("distribution") == "opensearch":
        return fail(
            f"this is OpenSearch {number}, not Elasticsearch: Elastic connectors don't run on it",
            "point elasticsearch.host at an Elasticsearch cluster",
            "host",
        )
    if version_info.get("build_flavor") == "serverless":
        ctx.facts[SERVERLESS] = True
        ctx.facts[VERSION] = None
        return ok("Elasticsearch Serverless (Connector API and manage_connector available)")
    version = parse_version(number)
    ctx.facts[VERSION] = version
    if version is None:
        return warn(f"unrecognised version {number!r}")
    return _advice(version, number)


async def check_connector_api(ctx: CheckContext) -> Outcome:
    try:
        # perform_request: the typed `connector.list` warns that the API is beta on stderr.
        response = await ctx.es.perform_request(
            "GET", "/_connector", params={"size": 1}, headers={"accept": "application/json"}
        )
    except ApiError as exc:
        if exc.meta.status == 403:
            ctx.facts[CONNECTOR_API] = True
            return warn(
                "the Connector API exists but these credentials may not use it",
                "grant cluster privilege manage_connector (8.15+) or use an admin key for setup",
            )
        if is_missing_api(exc):
            ctx.facts[CONNECTOR_API] = False
            return _flag_outcome(ctx, False, "") or _no_connector_api(ctx.facts.get(VERSION))
        return fail(f"GET _connector failed: {error_reason(exc)}")
    except TransportError as exc:
        return _network(ctx, exc)
    ctx.facts[CONNECTOR_API] = True
    count = response.body.get("count")
    suffix = f" ({count} connector{'s' if count != 1 else ''})" if count is not None else ""
    return _flag_outcome(ctx, True, suffix) or ok(f"Connector API available{suffix}")


def _flag_outcome(ctx: CheckContext, connector_api: bool, suffix: str) -> Outcome | None:
    """What config.yml's `feature_use_connectors_api` means on this cluster. Settings read
    from config.yml always carry it (Elastic's default merged in); the wizard's answers do not
    (it writes the key itself), so those get the plain result."""
    if FLAG not in ctx.settings:
        return None
    if not connector_api:
        problem = connectors_api_incompatibility(ctx.settings, False)
        if problem is None:
            return None
        return warn(f"elasticsearch.{FLAG} {problem.message}", problem.fix, FLAG)
    if ctx.settings.get(FLAG) is False:
        return warn(
            f"Connector API available{suffix}, but elasticsearch.{FLAG}: false makes Sluice "
            "and Elastic's service use the .elastic-connectors indices directly, which "
            "Elastic deprecates",
            f"remove elasticsearch.{FLAG} from config.yml (Elastic's default, true, uses the API)",
            FLAG,
        )
    return None


async def detect_connector_api(
    settings: Mapping[str, Any], *, timeout: float = DEFAULT_CHECK_TIMEOUT
) -> bool | None:
    """Whether the cluster at `settings` has the Connector API, asked as `sluice check` asks
    (True also when these credentials may not use it); None when it can't be told (bad
    settings, unreachable). For writers of config.yml: false needs
    `feature_use_connectors_api: false`."""
    try:
        client = build_client(settings, user_agent="sluice-check")
    except (TypeError, ValueError):
        return None
    ctx = CheckContext(settings, client, timeout=timeout)
    try:
        await check_connector_api(ctx)
    finally:
        await client.close()
    return ctx.facts.get(CONNECTOR_API)


def _no_connector_api(version: tuple[int, int, int] | None) -> Outcome:
    """No `_connector` endpoint. Before 8.12 that is the release; from 8.12 on it is a server
    that leaves the feature out (an emulator, or a cluster with it disabled): not something an
    upgrade fixes, and index mode works there."""
    if version is not None and version[:2] >= CONNECTOR_API_SINCE:
        number = ".".join(map(str, version))
        return ok(
            f"not offered by this server, which reports {number} (an emulator, or a cluster "
            "with the feature disabled): Sluice uses index mode, reading and writing the "
            ".elastic-connectors indices directly, and that works fine"
        )
    return warn(
        "no Connector API (GET _connector): Sluice will read and write the "
        ".elastic-connectors indices directly, which Elastic deprecates",
        "upgrade to Elasticsearch 8.12 or later (8.15+ recommended)"
        if version is not None
        else "fine if the cluster is older than 8.12; from 8.12 on, the API is built in",
    )


async def check_license(ctx: CheckContext) -> Outcome:
    try:
        response = await ctx.es.license.get()
    except ApiError as exc:
        if exc.meta.status == 403:
            return warn(
                "the credentials may not read the license (needs cluster privilege monitor)",
                "grant cluster privilege monitor",
            )
        if is_missing_api(exc):
            return skip("this server has no License API")
        return fail(f"GET _license failed: {error_reason(exc)}")
    except TransportError as exc:
        return _network(ctx, exc)
    lic = response.body.get("license") or {}
    kind = str(lic.get("type", "?"))
    status = str(lic.get("status", "?"))
    expiry = _expiry(lic)
    dls = (
        ""
        if kind in ("platinum", "enterprise", "trial")
        else "; document-level security needs platinum or enterprise"
    )
    if status != "active":
        ends = f" (ended {expiry:%Y-%m-%d})" if expiry else ""
        return fail(
            f"the {kind} license is {status}{ends}: the cluster blocks many operations",
            "renew the license, or go back to basic (POST _license/start_basic)",
        )
    if expiry is not None and kind != "basic":
        days = (expiry - datetime.now(UTC)).days
        if days < LICENSE_WARNING_DAYS:
            return warn(
                f"{kind} license, active, ends {expiry:%Y-%m-%d} ({days} days left){dls}",
                "renew it, or plan for basic features after that date",
            )
    return ok(f"{kind} license, active{dls}")


def _expiry(lic: dict[str, Any]) -> datetime | None:
    millis = lic.get("expiry_date_in_millis")
    if not isinstance(millis, int) or millis <= 0:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC)


async def check_api_keys(ctx: CheckContext) -> Outcome:
    state = ctx.facts.get(SECURITY)
    if state in ("off", "absent"):
        return skip(f"security is {'off' if state == 'off' else 'not available'}: no API keys")
    authenticated = ctx.facts.get(AUTHENTICATED) or {}
    if authenticated.get("authentication_type") == "api_key":
        return ok("API keys are enabled (Sluice is using one)")
    try:
        usage = await ctx.es.xpack.usage()
        service = (usage.body.get("security") or {}).get("api_key_service") or {}
        if "enabled" in service:
            return _api_keys_outcome(bool(service["enabled"]))
    except ApiError:
        pass  # no `monitor`: ask the API key endpoint itself
    except TransportError as exc:
        return _network(ctx, exc)
    try:
        await ctx.es.security.get_api_key(owner=True)
    except ApiError as exc:
        if error_type(exc) == "feature_not_enabled_exception":
            return _api_keys_outcome(False)
        if exc.meta.status == 403:
            return warn(
                "can't tell whether API keys are enabled: these credentials may not list them",
                "grant manage_own_api_key (or manage_api_key) to mint the connector's key",
            )
        return fail(f"GET _security/api_key failed: {error_reason(exc)}")
    except TransportError as exc:
        return _network(ctx, exc)
    return _api_keys_outcome(True)


def _api_keys_outcome(enabled: bool) -> Outcome:
    if enabled:
        return ok("API keys are enabled")
    return fail(
        "API keys are disabled on this cluster, so the connector can't get its own key",
        "set xpack.security.authc.api_key.enabled: true, or run the connector with "
        "username and password",
    )
