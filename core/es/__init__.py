"""Elasticsearch connection: the one client factory the whole program uses, and TLS trust."""

from typing import TYPE_CHECKING

from sluice.core.lazy import lazy_exports

if TYPE_CHECKING:  # the names below load on first use (see core/lazy.py)
    from sluice.core.es.client import (
        PRODUCT_ORIGIN_HEADER,
        Auth,
        ConnectionSettingsError,
        build_client,
        host_url,
        resolve_auth,
        tls_options,
    )
    from sluice.core.es.tls import (
        CertificateError,
        CertInfo,
        TlsOptions,
        fetch_certificate_chain,
        format_fingerprint,
        normalize_fingerprint,
        pin_certificate,
    )
    from sluice.core.es.transport import BackoffPolicy, parse_retry_after

__getattr__ = lazy_exports(
    __name__,
    {
        "client": (
            "PRODUCT_ORIGIN_HEADER",
            "Auth",
            "ConnectionSettingsError",
            "build_client",
            "host_url",
            "resolve_auth",
            "tls_options",
        ),
        "tls": (
            "CertificateError",
            "CertInfo",
            "TlsOptions",
            "fetch_certificate_chain",
            "format_fingerprint",
            "normalize_fingerprint",
            "pin_certificate",
        ),
        "transport": (
            "BackoffPolicy",
            "parse_retry_after",
        ),
    },
)

__all__ = [
    "PRODUCT_ORIGIN_HEADER",
    "Auth",
    "BackoffPolicy",
    "CertInfo",
    "CertificateError",
    "ConnectionSettingsError",
    "TlsOptions",
    "build_client",
    "fetch_certificate_chain",
    "format_fingerprint",
    "host_url",
    "normalize_fingerprint",
    "parse_retry_after",
    "pin_certificate",
    "resolve_auth",
    "tls_options",
]
