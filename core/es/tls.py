"""TLS for the Elasticsearch connection: trust settings, certificate chains, trust-on-first-use.

Elasticsearch 8 starts with a self-made CA and prints its SHA-256 fingerprint. Users either
point `ca_certs` at that CA, or give the fingerprint (`ca_fingerprint`). httpx cannot pin a
fingerprint, so Sluice does it itself: it fetches the chain the server presents, finds the
certificate with that fingerprint and then trusts exactly that certificate for real
verification. The same fetch shows the chain to a user who is asked to trust it
(`fetch_certificate_chain`), and `pin_certificate` saves the chosen one as a PEM file that
Sluice then uses as `ca_certs`.
"""

from __future__ import annotations

import hashlib
import os
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import certifi
import httpx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

_HEX64 = re.compile(r"[0-9A-F]{64}")


class CertificateError(Exception):
    """A certificate could not be fetched, matched or saved. The message says what to do."""


@dataclass(frozen=True)
class CertInfo:
    """One certificate of a server's chain, as shown to a user deciding whether to trust it."""

    subject: str
    issuer: str
    sha256_fingerprint: str  # "AB:CD:…", 32 colon-separated upper-case hex pairs
    not_before: datetime
    not_after: datetime
    is_ca: bool
    hostnames: tuple[str, ...] = ()  # DNS names and IP addresses the certificate is valid for
    pem: str = field(default="", repr=False)

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(self.not_after.tzinfo)) > self.not_after


@dataclass(frozen=True)
class TlsOptions:
    """How to trust the server: verify or not, against which CA file or directory, or pinned
    by fingerprint (which takes precedence over `ca_certs`)."""

    verify_certs: bool = True
    ca_certs: str | None = None
    ca_fingerprint: str | None = None


def normalize_fingerprint(value: str) -> str:
    """`ab:cd:…`, `AB CD …` or `abcd…` → `ABCD…` (64 hex digits); ValueError otherwise."""
    cleaned = re.sub(r"[\s:]", "", str(value)).upper()
    if not _HEX64.fullmatch(cleaned):
        raise ValueError(
            "ca_fingerprint must be a SHA-256 fingerprint: 64 hexadecimal digits, "
            "optionally separated by colons (as Elasticsearch prints it at first start)"
        )
    return cleaned


def format_fingerprint(value: str) -> str:
    """`ABCD…` → `AB:CD:…`, the form Elasticsearch and browsers show."""
    hex_digits = normalize_fingerprint(value)
    return ":".join(hex_digits[i : i + 2] for i in range(0, len(hex_digits), 2))


def short_fingerprint(value: str) -> str:
    """The first eight bytes, enough to tell certificates apart in a one-line message."""
    return format_fingerprint(value)[:23] + "…"


def cert_info_from_der(der: bytes) -> CertInfo:
    """Describe a DER certificate: names, fingerprint, validity, hostnames."""
    cert = x509.load_der_x509_certificate(der)
    try:
        is_ca = bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        is_ca = False
    hostnames: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        hostnames += san.get_values_for_type(x509.DNSName)
        hostnames += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    digest = hashlib.sha256(der).hexdigest().upper()
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        sha256_fingerprint=format_fingerprint(digest),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        is_ca=is_ca,
        hostnames=tuple(hostnames),
        pem=cert.public_bytes(Encoding.PEM).decode("ascii"),
    )


def build_ssl_context(options: TlsOptions, *, pinned_pem: str | None = None) -> ssl.SSLContext:
    """The client context for https.

    With `pinned_pem` (a certificate matched by fingerprint) that certificate is the only
    trust anchor and the host name is not checked: the fingerprint is the server's identity,
    as in Elastic's own clients. Partial chains are accepted so a pinned or configured
    intermediate or leaf certificate can anchor trust (Python 3.13 does the same by default).
    Raises ValueError naming `ca_certs` when the CA path is unusable.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies chain and host name
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if pinned_pem is not None:
        context.check_hostname = False
        context.load_verify_locations(cadata=pinned_pem)
    elif not options.verify_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif options.ca_certs:
        path = os.path.expanduser(str(options.ca_certs))
        try:
            if os.path.isdir(path):
                context.load_verify_locations(capath=path)
            else:
                context.load_verify_locations(cafile=path)
        except FileNotFoundError:
            raise ValueError(
                f"ca_certs: {path} does not exist; point it at the CA certificate (PEM) of "
                "your cluster, e.g. config/certs/http_ca.crt of Elasticsearch"
            ) from None
        except ssl.SSLError:
            raise ValueError(
                f"ca_certs: {path} holds no PEM certificate; use the CA certificate file "
                "of your cluster (-----BEGIN CERTIFICATE-----)"
            ) from None
        except OSError as exc:
            raise ValueError(f"ca_certs: {path} cannot be read ({exc.strerror})") from None
    else:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        context.load_verify_locations(cafile=certifi.where())
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def unverified_ssl_context() -> ssl.SSLContext:
    """Accept any certificate: only to LOOK at a chain, never to send credentials."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def peer_chain_der(ssl_object: Any) -> list[bytes]:
    """The chain the peer sent, leaf first, as DER.

    Python 3.13 has `get_unverified_chain()`; 3.10-3.12 have it on the private `_sslobj`
    (Elastic's own client uses it the same way). Falls back to the leaf alone.
    """
    for owner in (ssl_object, getattr(ssl_object, "_sslobj", None)):
        getter = getattr(owner, "get_unverified_chain", None)
        if getter is None:
            continue
        chain = getter() or []
        return [
            item if isinstance(item, bytes) else item.public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined]
            for item in chain
        ]
    leaf = ssl_object.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def https_origin(host_url: str) -> str:
    """`https://host:port` of `host_url`; CertificateError for anything but https."""
    parts = urlsplit(host_url)
    if parts.scheme != "https" or not parts.hostname:
        raise CertificateError(
            f"{redact_userinfo(host_url)} is not an https:// address, so there is no "
            "certificate to fetch"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"https://{host}:{parts.port or 443}"


def redact_userinfo(url: str) -> str:
    """Drop `user:password@` from a URL so it can be shown (works on malformed URLs too)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # "Invalid IPv6 URL" and the like: cut by hand
        return re.sub(r"(?<=//)[^/@\s]*@", "", url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


async def fetch_certificate_chain(host_url: str, *, timeout: float = 10.0) -> list[CertInfo]:
    """The certificates `host_url` presents, leaf first, WITHOUT trusting them.

    Sends one `GET /` without credentials (through the environment's proxy, if any) and reads
    the chain from the TLS session. Raises CertificateError when the server can't be reached.
    """
    origin = https_origin(host_url)
    try:
        async with (
            httpx.AsyncClient(verify=unverified_ssl_context(), timeout=timeout) as client,
            client.stream("GET", origin + "/") as response,
        ):
            stream = response.extensions.get("network_stream")
            ssl_object = stream.get_extra_info("ssl_object") if stream else None
            if ssl_object is None:
                raise CertificateError(f"{origin} did not negotiate TLS")
            chain = peer_chain_der(ssl_object)
    except httpx.HTTPError as exc:
        raise CertificateError(
            f"could not fetch the certificate of {origin}: {type(exc).__name__}: {exc}"
        ) from None
    if not chain:
        raise CertificateError(f"{origin} presented no certificate")
    return [cert_info_from_der(der) for der in chain]


def find_by_fingerprint(chain: Sequence[CertInfo], fingerprint: str) -> CertInfo | None:
    wanted = normalize_fingerprint(fingerprint)
    for cert in chain:
        if normalize_fingerprint(cert.sha256_fingerprint) == wanted:
            return cert
    return None


def fingerprint_mismatch_message(host_url: str, fingerprint: str, chain: Sequence[CertInfo]) -> str:
    presented = ", ".join(short_fingerprint(c.sha256_fingerprint) for c in chain) or "none"
    return (
        f"{redact_userinfo(host_url)} presented no certificate with the pinned fingerprint "
        f"{short_fingerprint(fingerprint)} (it presented {presented}); the certificate "
        "changed or this is not your cluster"
    )


async def pin_certificate(
    host_url: str, fingerprint: str, dest_path: str | os.PathLike[str]
) -> Path:
    """Save the certificate of `host_url`'s chain whose SHA-256 is `fingerprint` as PEM.

    The user has confirmed the fingerprint (shown by `fetch_certificate_chain`); the file is
    then used as `ca_certs`. Refuses (CertificateError) when no certificate matches, so a
    different server is never trusted by mistake.
    """
    normalized = normalize_fingerprint(fingerprint)
    chain = await fetch_certificate_chain(host_url)
    match = find_by_fingerprint(chain, normalized)
    if match is None:
        raise CertificateError(fingerprint_mismatch_message(host_url, normalized, chain))
    path = Path(dest_path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(match.pem, encoding="ascii")
    tmp.chmod(0o644)  # a certificate is public; the service may run as another user
    os.replace(tmp, path)
    return path


def ca_file_name(host_url: str) -> str:
    """`es.example.com-9200-ca.pem` for `https://es.example.com:9200`: one CA file per
    cluster, so two configs in one folder don't overwrite each other's."""
    parts = urlsplit(host_url)
    host = parts.hostname or "elasticsearch"
    try:
        port = parts.port or 443
    except ValueError:
        port = 443
    stem = re.sub(r"[^A-Za-z0-9.-]+", "_", f"{host}-{port}")
    return f"{stem}-ca.pem"


async def save_pinned_ca(host_url: str, fingerprint: str, folder: str | os.PathLike[str]) -> Path:
    """For Elastic's service, which reads `ca_certs` but not `ca_fingerprint`: save the
    certificate of `host_url` whose SHA-256 is `fingerprint` in `folder` (next to config.yml,
    mode 0644, named after the host) and return its absolute path. CertificateError when the
    server presents no such certificate."""
    dest = Path(folder).expanduser().resolve() / ca_file_name(host_url)
    return await pin_certificate(host_url, fingerprint, dest)


# ---------------------------------------------------------------- trust on first use (wizard)

#: The file a user's confirmed certificate is saved as, next to the wizard's state.
PINNED_CA_NAME = "http_ca.pem"


def trust_offer_applies(host_url: str, *, tls_failed: bool, field: str | None) -> bool:
    """Offer to pin the server's certificate only when the TLS check failed because the
    certificate is not trusted (its message names `ca_certs`) on an https endpoint."""
    return tls_failed and field == "ca_certs" and host_url.strip().lower().startswith("https")


def certificate_to_offer(chain: Sequence[CertInfo]) -> CertInfo | None:
    """Which certificate of the chain a user is asked to trust: the top of what the server
    sent (its CA when it sends one, else the self-signed server certificate)."""
    return chain[-1] if chain else None
