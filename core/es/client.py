"""Build the async Elasticsearch client from the `elasticsearch` section of config.yml.

One factory, so the TUI, the CLI and the service all connect the same way: httpx as the only
HTTP stack (proxies from the environment), API key / bearer / basic auth, TLS verified by
default (CA file, or a pinned SHA-256 fingerprint), and retries that back off.

Keys read (Elastic's config.yml names): host, api_key, bearer_auth, username, password,
verify_certs, ca_certs, ca_fingerprint (Sluice), request_timeout, retry_on_timeout,
max_retries, initial_backoff_duration, backoff_multiplier, max_wait_duration. The scheme of
`host` decides TLS; Elastic's `ssl` flag adds nothing beyond it.
"""

from __future__ import annotations

import base64
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from elastic_transport import NodeConfig, TextSerializer
from elastic_transport.client_utils import url_to_node_config
from elasticsearch import AsyncElasticsearch
from elasticsearch.exceptions import GeneralAvailabilityWarning
from elasticsearch.serializer import OrjsonSerializer

from sluice.core.address import address_problem
from sluice.core.echo import quoted
from sluice.core.es.node import TLS_EXTRA, SluiceHttpxNode
from sluice.core.es.tls import TlsOptions, build_ssl_context, normalize_fingerprint, redact_userinfo
from sluice.core.es.transport import BackoffAsyncTransport, BackoffPolicy
from sluice.core.redact import remember_secret

#: Header Elastic's own service sends; recent clusters require it for the connector indices.
PRODUCT_ORIGIN_HEADER = {"X-elastic-product-origin": "connectors"}

#: Statuses worth retrying after a pause: throttled, or a gateway/node momentarily away.
RETRY_ON_STATUS = (429, 502, 503, 504)

# elastic-transport logs whole request and response bodies at DEBUG; bodies can carry
# secrets (a freshly minted API key, source credentials in a connector's configuration).
# Keep that logger at INFO or above even when an application turns on DEBUG globally.
logging.getLogger("elastic_transport.node").setLevel(logging.INFO)


# The Connector API is marked beta in the 8.x client; Sluice knows, users need not be told
# on every command.
warnings.filterwarnings("ignore", category=GeneralAvailabilityWarning)


class ConnectionSettingsError(ValueError):
    """An `elasticsearch` setting can't be used. `field` names the key; the message says
    what is wrong and how to fix it, never a secret."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"elasticsearch.{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Auth:
    """Which credentials to send; `describe()` is safe to show."""

    kind: str  # "api_key" | "bearer" | "basic" | "none"
    field: str  # the config key the user would fix
    value: Any = None

    def describe(self) -> str:
        if self.kind == "basic":
            return f"user {self.value[0]!r}"
        return {"api_key": "an API key", "bearer": "a bearer token"}.get(
            self.kind, "no credentials"
        )


def resolve_auth(settings: Mapping[str, Any]) -> Auth:
    """API key first, then bearer token, then username/password — as Elastic's service does."""
    api_key = settings.get("api_key")
    if api_key:
        key = str(api_key).strip()
        remember_secret(key)
        # Kibana shows the encoded form (base64, never a colon); "id:secret" is accepted too.
        value: Any = tuple(key.split(":", 1)) if ":" in key else key
        return Auth("api_key", "api_key", value)
    if settings.get("bearer_auth"):
        token = str(settings["bearer_auth"]).strip()
        remember_secret(token)
        return Auth("bearer", "bearer_auth", token)
    if settings.get("username") and settings.get("password") is not None:
        remember_secret(str(settings["password"]))
        return Auth("basic", "password", (str(settings["username"]), str(settings["password"])))
    return Auth("none", "api_key")


def authorization_header(auth: Auth) -> str | None:
    """The `Authorization` value for `auth`, built here rather than by the client, which
    encodes Basic credentials as ASCII and fails on "pässword".

    Basic credentials go out as UTF-8 (RFC 7617 §2.1, the charset Elasticsearch decodes).
    API keys and tokens are ASCII by construction, so anything else is a paste error: the
    message names the field and never shows the value."""
    if auth.kind == "basic":
        user, password = auth.value
        if ":" in user:
            raise ConnectionSettingsError(
                "username",
                "contains ':', which HTTP Basic authentication cannot carry "
                "(RFC 7617); use the user's name without ':' or an API key",
            )
        for field, text in (("username", user), ("password", password)):
            if _has_control_character(text):
                raise ConnectionSettingsError(
                    field, "contains a control character (a line break or tab?); type it again"
                )
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    if auth.kind in ("api_key", "bearer"):
        value = auth.value
        text = ":".join(value) if isinstance(value, tuple) else str(value)
        what = "an API key" if auth.kind == "api_key" else "a bearer token"
        if not text.isascii() or _has_control_character(text) or " " in text:
            raise ConnectionSettingsError(
                auth.field,
                f"is not {what}: it holds spaces or characters outside ASCII, which "
                f"{what} never has; copy the encoded value again (Kibana shows it once, "
                "when the key is created)",
            )
        if auth.kind == "bearer":
            return f"Bearer {text}"
        encoded = base64.b64encode(text.encode()).decode() if isinstance(value, tuple) else text
        return f"ApiKey {encoded}"
    return None


def _has_control_character(text: str) -> bool:
    return any(ord(char) < 32 or ord(char) == 127 for char in text)


def host_url(settings: Mapping[str, Any]) -> str:
    """The validated `host` (scheme, host and port are required to mean one thing)."""
    host = str(settings.get("host") or "http://localhost:9200").strip()
    try:
        parts = urlsplit(host)
    except ValueError as exc:  # "Invalid IPv6 URL" and the like
        raise ConnectionSettingsError(
            "host", f"{quoted(redact_userinfo(host))} is not a valid URL ({exc})"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectionSettingsError(
            "host",
            f"{quoted(redact_userinfo(host))} is not an address; write it as "
            "https://HOST:PORT (or http:// for a cluster without TLS)",
        )
    problem = address_problem(host)  # before elastic-transport's "Could not parse URL"
    if problem:
        raise ConnectionSettingsError("host", f"{quoted(redact_userinfo(host))}: {problem}")
    return host


def tls_options(settings: Mapping[str, Any]) -> TlsOptions:
    fingerprint = settings.get("ca_fingerprint")
    if fingerprint:
        try:
            fingerprint = normalize_fingerprint(str(fingerprint))
        except ValueError as exc:
            raise ConnectionSettingsError("ca_fingerprint", str(exc).split(": ", 1)[1]) from None
    return TlsOptions(
        verify_certs=_bool(settings.get("verify_certs", True)),
        ca_certs=str(settings["ca_certs"]) if settings.get("ca_certs") else None,
        ca_fingerprint=fingerprint or None,
    )


def backoff_policy(settings: Mapping[str, Any]) -> BackoffPolicy:
    return BackoffPolicy(
        initial=_number(settings, "initial_backoff_duration", 1.0),
        multiplier=_number(settings, "backoff_multiplier", 2.0),
        max_wait=_number(settings, "max_wait_duration", 240.0),
    )


def build_client(
    settings: Mapping[str, Any], *, user_agent: str | None = None
) -> AsyncElasticsearch:
    """Return an `AsyncElasticsearch` for `settings` (the config's `elasticsearch` mapping).

    Raises `ConnectionSettingsError` (a ValueError naming the key) for unusable settings.
    No network I/O happens here; with `ca_fingerprint` the server is checked on first use.
    """
    url = host_url(settings)
    tls = tls_options(settings)
    if url.startswith("https") and not tls.ca_fingerprint:
        try:
            build_ssl_context(tls)  # fail now, naming ca_certs, rather than on first request
        except ValueError as exc:
            raise ConnectionSettingsError("ca_certs", str(exc).split(": ", 1)[1]) from None
    node: NodeConfig = url_to_node_config(url, use_default_ports_for_scheme=True)
    node = node.replace(_extras={TLS_EXTRA: tls})
    kwargs: dict[str, Any] = {
        "hosts": [node],
        "node_class": SluiceHttpxNode,
        "transport_class": BackoffAsyncTransport,
        "request_timeout": _number(settings, "request_timeout", 240.0),
        "retry_on_timeout": _bool(settings.get("retry_on_timeout", True)),
        "max_retries": int(_number(settings, "max_retries", 5)),
        "retry_on_status": RETRY_ON_STATUS,
        # Proxies and load balancers answer errors in HTML or plain text; read them as text
        # so the status (401, 502...) reaches the caller instead of a serializer error.
        "serializers": {
            # orjson: several times faster than the stdlib for bulk headers and responses
            "application/json": OrjsonSerializer(),
            "text/html": TextSerializer(),
            "text/plain": TextSerializer(),
        },
    }
    headers: dict[str, str] = {}
    authorization = authorization_header(resolve_auth(settings))
    if authorization:
        headers["authorization"] = authorization
    if user_agent:
        headers["user-agent"] = user_agent
    if headers:
        kwargs["headers"] = headers
    client = AsyncElasticsearch(**kwargs)
    transport = client.transport
    if isinstance(transport, BackoffAsyncTransport):
        transport.backoff = backoff_policy(settings)
    return client


def _number(settings: Mapping[str, Any], key: str, default: float) -> float:
    value = settings.get(key)
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConnectionSettingsError(key, f"{value!r} is not a number") from None
    if number < 0:
        raise ConnectionSettingsError(key, f"{value!r} must not be negative")
    return number


def _bool(value: Any) -> bool:
    """Truthiness as Elastic's service reads it (so the string "false" is true there too;
    the config loader warns about such values)."""
    return bool(value)
