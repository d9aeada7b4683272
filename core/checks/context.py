"""What every check can read: settings, the client, the names under test, and the facts that
earlier checks found (version, security on/off...), so no check asks the cluster twice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from elasticsearch import AsyncElasticsearch

from sluice.core.es.client import Auth, ConnectionSettingsError, resolve_auth
from sluice.core.es.tls import TlsOptions, redact_userinfo

#: Checks wait at most this long for one answer (a check that takes longer is the answer).
DEFAULT_CHECK_TIMEOUT = 15.0


@dataclass
class CheckContext:
    settings: Mapping[str, Any]
    client: AsyncElasticsearch | None  # None when the settings can't build one
    index_name: str | None = None
    pipeline: str | None = None
    timeout: float = DEFAULT_CHECK_TIMEOUT
    host: str = ""  # validated host URL ("" when invalid)
    tls: TlsOptions = field(default_factory=TlsOptions)
    settings_error: ConnectionSettingsError | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def auth(self) -> Auth:
        return resolve_auth(self.settings)

    @property
    def es(self) -> AsyncElasticsearch:
        """The client for check requests: short timeout, no retries (a check reports what
        happens now; the service retries later)."""
        assert self.client is not None
        return self.client.options(request_timeout=self.timeout, max_retries=0)

    @property
    def shown_host(self) -> str:
        return redact_userinfo(self.host)

    @property
    def probe_url(self) -> str:
        """`host` without user info (the unauthenticated probes send no credentials)."""
        parts = urlsplit(self.host)
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        path = parts.path.rstrip("/")
        return f"{parts.scheme}://{netloc}{path}/"

    @property
    def is_https(self) -> bool:
        return self.host.startswith("https")

    def secrets(self) -> list[str]:
        """Values that must never appear in a message."""
        values = [self.settings.get(k) for k in ("api_key", "password", "bearer_auth")]
        found = [str(v) for v in values if v]
        parts = urlsplit(self.host) if self.host else None
        if parts is not None and parts.password:
            found.append(parts.password)
        for value in list(found):
            if ":" in value:  # "id:secret" API keys
                found.append(value.split(":", 1)[1])
        return [v for v in found if len(v) >= 4]
