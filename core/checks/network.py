"""Can Sluice reach the cluster, how fast, and can it trust the certificate?

Both checks probe WITHOUT credentials (a `GET /` whose 401 is as good an answer as a 200), so
nothing secret is sent before the TLS check has vouched for the server. They go through the
environment's proxy exactly like the real client (httpx `trust_env`).
"""

from __future__ import annotations

import ipaddress
import ssl
import time
import urllib.request
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from sluice.core.checks.context import CheckContext
from sluice.core.checks.failures import explain_network_failure, find_cause, host_port
from sluice.core.checks.result import Outcome, fail, ok, skip, warn
from sluice.core.es.tls import (
    CertificateError,
    CertInfo,
    build_ssl_context,
    cert_info_from_der,
    fetch_certificate_chain,
    find_by_fingerprint,
    fingerprint_mismatch_message,
    peer_chain_der,
    redact_userinfo,
    unverified_ssl_context,
)

SLOW_ROUND_TRIP_MS = 500.0
EXPIRY_WARNING_DAYS = 14

# OpenSSL X509_V_ERR_* codes, grouped by what the user has to do about them.
_UNKNOWN_CA = {2, 19, 20, 21, 27}
_SELF_SIGNED = {18}
_EXPIRED = {10}
_NOT_YET_VALID = {9}
_HOSTNAME = {62, 64}


def proxy_for(url: str) -> str | None:
    """The proxy the environment routes `url` through (shown, never with its password)."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    # in CPython's urllib.request, though typeshed does not list it
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if not proxy or bypass(parts.hostname or "", proxies):
        return None
    return redact_userinfo(proxy)


def is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


async def check_connection(ctx: CheckContext) -> Outcome:
    """Reach the host and time a first answer and a round trip on the open connection."""
    if ctx.settings_error is not None:
        err = ctx.settings_error
        return fail(str(err), None, err.field)  # the message says what to write instead
    url = ctx.probe_url
    verify: ssl.SSLContext | bool = unverified_ssl_context() if ctx.is_https else False
    try:
        async with httpx.AsyncClient(verify=verify, timeout=ctx.timeout) as client:
            start = time.perf_counter()
            first = await client.get(url)
            first_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            await client.get(url)
            round_trip_ms = (time.perf_counter() - start) * 1000
    except httpx.HTTPError as exc:
        return explain_network_failure(exc, url, ctx.timeout)
    ctx.facts["round_trip_ms"] = round_trip_ms
    via = proxy_for(url)
    route = f" via proxy {via}" if via else ""
    message = (
        f"{host_port(url)}{route} answered HTTP {first.status_code} in {first_ms:.0f} ms; "
        f"round trip {round_trip_ms:.1f} ms"
    )
    if round_trip_ms > SLOW_ROUND_TRIP_MS:
        return warn(
            message + " (slow)",
            "syncs will be slow over this link; run Sluice closer to the cluster",
            "host",
        )
    return ok(message)


async def check_tls(ctx: CheckContext) -> Outcome:
    """Verify the certificate as the real client will, and say precisely why it fails."""
    hostname = urlsplit(ctx.host).hostname or ""
    if not ctx.is_https:
        if is_loopback(hostname):
            return skip("plain http on a loopback address: no TLS to check")
        return warn(
            "plain http: credentials and documents cross the network unencrypted",
            "use https:// in elasticsearch.host (Elasticsearch 8 serves TLS by default)",
            "host",
        )
    if ctx.tls.ca_fingerprint:
        return await _check_pinned(ctx)
    if not ctx.tls.verify_certs:
        return warn(
            "certificate verification is off (verify_certs: false): anyone on the path can "
            "pose as the cluster and read the credentials",
            "set verify_certs: true with ca_certs (the cluster's CA file) or ca_fingerprint",
            "verify_certs",
        )
    try:
        context = build_ssl_context(ctx.tls)
    except ValueError as exc:
        return fail(str(exc), None, "ca_certs")
    try:
        async with (
            httpx.AsyncClient(verify=context, timeout=ctx.timeout) as client,
            client.stream("GET", ctx.probe_url) as response,
        ):
            stream = response.extensions.get("network_stream")
            ssl_object = stream.get_extra_info("ssl_object") if stream else None
            chain = (
                [cert_info_from_der(d) for d in peer_chain_der(ssl_object)] if ssl_object else []
            )
    except httpx.HTTPError as exc:
        verify_error = find_cause(exc, ssl.SSLCertVerificationError)
        if verify_error is None:
            return explain_network_failure(exc, ctx.probe_url, ctx.timeout)
        return await _explain_verify_error(ctx, verify_error)
    source = "ca_certs" if ctx.tls.ca_certs else "the system's trusted CAs"
    return _valid_certificate(chain, f"verified against {source}")


async def _check_pinned(ctx: CheckContext) -> Outcome:
    try:
        chain = await fetch_certificate_chain(ctx.probe_url, timeout=ctx.timeout)
    except CertificateError as exc:
        return fail(str(exc), None, "host")
    fingerprint = str(ctx.tls.ca_fingerprint)
    match = find_by_fingerprint(chain, fingerprint)
    if match is None:
        return fail(
            fingerprint_mismatch_message(ctx.host, fingerprint, chain),
            "if the cluster's certificates were renewed, confirm and pin the new CA "
            "fingerprint; otherwise don't connect",
            "ca_fingerprint",
        )
    return _valid_certificate(chain, f"pinned certificate {match.subject} found in the chain")


def _valid_certificate(chain: list[CertInfo], how: str) -> Outcome:
    if not chain:
        return ok(how)
    leaf = chain[0]
    days_left = (leaf.not_after - datetime.now(UTC)).days
    message = f"{how}; server certificate {leaf.subject}, valid until {leaf.not_after:%Y-%m-%d}"
    if days_left < EXPIRY_WARNING_DAYS:
        return warn(
            message + f" ({days_left} days left)",
            "renew the cluster's HTTP certificate before it expires",
            "host",
        )
    return ok(message)


async def _explain_verify_error(ctx: CheckContext, error: ssl.SSLCertVerificationError) -> Outcome:
    code = error.verify_code
    try:
        chain = await fetch_certificate_chain(ctx.probe_url, timeout=ctx.timeout)
    except CertificateError:
        chain = []
    leaf = chain[0] if chain else None
    top = chain[-1] if chain else None
    pin_hint = (
        f"; if {top.sha256_fingerprint} is the fingerprint your cluster printed, pin it "
        "with elasticsearch.ca_fingerprint"
        if top
        else ""
    )
    if code in _EXPIRED:
        when = f" on {leaf.not_after:%Y-%m-%d}" if leaf else ""
        return fail(
            f"the server's certificate expired{when}",
            "renew the cluster's HTTP certificate (elasticsearch-certutil http), or fix the "
            "clock of this machine if it is wrong",
            "host",
        )
    if code in _NOT_YET_VALID:
        when = f" before {leaf.not_before:%Y-%m-%d %H:%M} UTC" if leaf else ""
        return fail(
            f"the server's certificate is not valid yet{when}",
            "the clock of this machine or of the cluster is wrong; fix it (NTP)",
            "host",
        )
    if code in _HOSTNAME:
        names = ", ".join(leaf.hostnames) if leaf and leaf.hostnames else "other names"
        hostname = urlsplit(ctx.host).hostname
        return fail(
            f"the certificate is for {names}, not {hostname}",
            "connect with a name the certificate lists (elasticsearch.host), or reissue the "
            "certificate with this name in its subjectAltName",
            "host",
        )
    if code in _SELF_SIGNED:
        return fail(
            "the server presents a self-signed certificate that nothing here trusts",
            "set elasticsearch.ca_certs to a copy of that certificate" + pin_hint,
            "ca_certs",
        )
    if code in _UNKNOWN_CA:
        issuer = f" ({leaf.issuer})" if leaf else ""
        configured = f" in {ctx.tls.ca_certs}" if ctx.tls.ca_certs else ""
        return fail(
            f"the certificate is signed by a CA not trusted{configured}{issuer}",
            "set elasticsearch.ca_certs to the cluster's CA file (config/certs/http_ca.crt of "
            "Elasticsearch)" + pin_hint,
            "ca_certs",
        )
    return fail(
        f"certificate verification failed: {error.verify_message} (code {code})",
        "check elasticsearch.ca_certs and the cluster's certificate",
        "ca_certs",
    )
