"""Turn low-level failures into one-line causes with a fix.

Two kinds: network/TLS failures (httpx and elastic-transport exceptions, whose real cause is
buried in `__cause__` chains) and Elasticsearch error answers (`ApiError`, whose body is
Elasticsearch's error JSON, a bare "no handler found" string, or a proxy's HTML page).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
from elastic_transport import ConnectionTimeout, SerializationError, TransportError
from elasticsearch import ApiError

from sluice.core.checks.result import Outcome, fail
from sluice.core.es.errors import error_reason, error_type

# OpenSSL reasons meaning "the other side is not speaking TLS".
_NOT_TLS_REASONS = ("WRONG_VERSION_NUMBER", "record layer failure", "HTTP_REQUEST", "packet length")


def causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and everything it wraps: elastic-transport `.errors`, `__cause__`, `__context__`."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, TransportError):
            stack.extend(e for e in current.errors if isinstance(e, BaseException))
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)


def find_cause(exc: BaseException, kind: type[BaseException]) -> Any:
    return next((c for c in causes(exc) if isinstance(c, kind)), None)


def host_port(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def explain_network_failure(exc: BaseException, url: str, timeout: float) -> Outcome:
    """Why a request to `url` got no HTTP answer, and what to change."""
    where = host_port(url)
    hostname = urlsplit(url).hostname or ""
    if isinstance(exc, SerializationError):
        return fail(
            f"{where} answered something that is not Elasticsearch's JSON ({first_line(exc)})"[
                :300
            ],
            "check that elasticsearch.host points at Elasticsearch, not a proxy's error page",
            "host",
        )
    tls = find_cause(exc, ssl.SSLError)
    if tls is not None:
        reason = str(getattr(tls, "reason", None) or tls)
        if any(r.lower() in reason.lower() or r in str(tls) for r in _NOT_TLS_REASONS):
            return fail(
                f"{where} does not speak TLS (the handshake got a plain-text answer)",
                "write http:// instead of https:// in elasticsearch.host",
                "host",
            )
        if "EOF" in reason.upper():
            return fail(
                f"{where} cut the TLS handshake off: it may not speak TLS on this port",
                "if the cluster serves plain http, write http:// in elasticsearch.host",
                "host",
            )
        return fail(
            f"TLS handshake with {where} failed: {reason}",
            "see the TLS check; check elasticsearch.host, ca_certs and verify_certs",
            "ca_certs",
        )
    if find_cause(exc, socket.gaierror) is not None:
        return fail(
            f"cannot resolve the host name {hostname!r}",
            "check the spelling of elasticsearch.host, or the DNS of this machine",
            "host",
        )
    if find_cause(exc, httpx.ProxyError) is not None:
        proxy_error = find_cause(exc, httpx.ProxyError)
        return fail(
            f"the proxy refused to connect to {where}: {proxy_error}",
            "check HTTPS_PROXY / HTTP_PROXY, or add the host to NO_PROXY",
            "host",
        )
    if find_cause(exc, ConnectionRefusedError) is not None:
        return fail(
            f"nothing accepts connections on {where} (connection refused)",
            "start Elasticsearch, or fix the port in elasticsearch.host (9200 by default)",
            "host",
        )
    if find_cause(exc, httpx.ConnectTimeout) is not None:
        return fail(
            f"no answer from {where} within {timeout:g} s while connecting",
            "a firewall may drop the traffic, or the address is wrong; behind a proxy set "
            "HTTPS_PROXY",
            "host",
        )
    if find_cause(exc, httpx.TimeoutException) is not None or isinstance(exc, ConnectionTimeout):
        return fail(
            f"{where} accepted the connection but sent no answer within {timeout:g} s",
            "the cluster may be overloaded or starting; raise elasticsearch.request_timeout "
            "if it is just slow",
            "request_timeout",
        )
    if (
        find_cause(exc, httpx.RemoteProtocolError) is not None
        or find_cause(exc, ConnectionResetError) is not None
    ):
        if urlsplit(url).scheme == "http":
            return fail(
                f"{where} closed the connection without an HTTP answer",
                "the cluster probably uses TLS (Elasticsearch 8 does by default): write "
                "https:// in elasticsearch.host",
                "host",
            )
        return fail(f"{where} closed the connection without an HTTP answer", None, "host")
    os_error = find_cause(exc, OSError)
    if os_error is not None and getattr(os_error, "strerror", None):
        return fail(f"cannot connect to {where}: {os_error.strerror}", None, "host")
    return fail(f"cannot connect to {where}: {first_line(exc)}", None, "host")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# ---- Elasticsearch error answers --------------------------------------------------------


def error_body(exc: ApiError) -> Any:
    return exc.body


def is_missing_api(exc: ApiError) -> bool:
    """True when the server has no such endpoint (older version, other distribution, or a
    feature turned off): Elasticsearch answers "no handler found" or, for `GET /_name`,
    reads `_name` as an index name and rejects it."""
    status = exc.meta.status
    reason = error_reason(exc).lower()
    if status == 405 or "no handler found" in reason or "incorrect http method" in reason:
        return True
    if status == 400 and error_type(exc) == "invalid_index_name_exception":
        return True
    return status in (404, 410) and error_type(exc) not in (
        "index_not_found_exception",
        "resource_not_found_exception",
    )


def is_security_disabled(exc: ApiError) -> bool:
    """Elasticsearch's answers when security is switched off (7.x: a 500 saying it "must be
    explicitly enabled"; 8.x: the handlers are not registered at all)."""
    reason = error_reason(exc).lower()
    return "security must be explicitly enabled" in reason or "security is not enabled" in reason


def is_elasticsearch_answer(exc: ApiError) -> bool:
    return exc.meta.headers.get("x-elastic-product") == "Elasticsearch"
