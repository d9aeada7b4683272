"""The HTTP node: elastic-transport's httpx node with Sluice's TLS and the environment's proxy.

elastic-transport's own httpx node refuses certificate pinning and forces its own TLS
defaults. This subclass keeps its request code (error mapping, logging without auth headers)
and only builds the httpx client itself: TLS from `core.es.tls`, proxies and NO_PROXY from
the environment (httpx `trust_env`), and — with a pinned fingerprint — no connection carrying
credentials until the server's chain has been shown to contain that certificate.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx
from elastic_transport import ConnectionError, HttpxAsyncHttpNode, NodeConfig, TlsError
from elastic_transport._node._base_async import BaseAsyncNode

from sluice.core.es.tls import (
    CertificateError,
    TlsOptions,
    build_ssl_context,
    fetch_certificate_chain,
    find_by_fingerprint,
    fingerprint_mismatch_message,
)

#: Key of `NodeConfig._extras` that carries the `TlsOptions` (third-party keys start with "_").
TLS_EXTRA = "_sluice_tls"


class TlsFailure(TlsError):
    """A TLS error whose text is the reason itself (elastic-transport's own TlsError prints
    only "TLS error" once the transport has reset its `errors`)."""

    def __str__(self) -> str:
        return str(self.message)


class FingerprintMismatchError(TlsFailure):
    """The server's chain lacks the pinned certificate: nothing was sent to it."""


class SluiceHttpxNode(HttpxAsyncHttpNode):
    """httpx node honouring `TlsOptions` (CA file, no verification, or a pinned fingerprint)."""

    def __init__(self, config: NodeConfig) -> None:
        BaseAsyncNode.__init__(self, config)  # skip the parent's client: we build our own
        self.tls: TlsOptions = config._extras.get(TLS_EXTRA) or TlsOptions()
        self._pin_lock = asyncio.Lock()
        self.client: httpx.AsyncClient | None = None  # type: ignore[assignment]
        if config.scheme != "https":
            self.client = self._make_client(None)
        elif not self.tls.ca_fingerprint:
            self.client = self._make_client(build_ssl_context(self.tls))

    def _make_client(self, context: ssl.SSLContext | None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=f"{self.config.scheme}://{self.config.host}:{self.config.port}",
            limits=httpx.Limits(max_connections=self.config.connections_per_node),
            verify=context if context is not None else False,
            timeout=self.config.request_timeout,
            trust_env=True,
        )

    async def _pin(self) -> None:
        """Fetch the chain once, find the pinned certificate, and trust only it from now on."""
        async with self._pin_lock:
            if self.client is not None:
                return
            url = f"https://{self.config.host}:{self.config.port}"
            fingerprint = str(self.tls.ca_fingerprint)
            try:
                chain = await fetch_certificate_chain(
                    url, timeout=self.config.request_timeout or 10.0
                )
            except CertificateError as exc:
                raise ConnectionError(str(exc), errors=(exc,)) from None
            match = find_by_fingerprint(chain, fingerprint)
            if match is None:
                raise FingerprintMismatchError(
                    fingerprint_mismatch_message(url, fingerprint, chain)
                )
            self.client = self._make_client(build_ssl_context(self.tls, pinned_pem=match.pem))

    async def perform_request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if self.client is None:
            await self._pin()
        return await super().perform_request(*args, **kwargs)

    async def close(self) -> None:  # type: ignore[override]
        if self.client is not None:
            await self.client.aclose()
