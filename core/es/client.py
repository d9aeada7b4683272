"""Build the async Elasticsearch client from the `elasticsearch` section of config.yml.

One factory, so the TUI, the CLI and the service all connect the same way: httpx as the only
HTTP stack, API key / basic / bearer auth, TLS verified by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elasticsearch import AsyncElasticsearch

#: Header Elastic's own service sends; recent clusters require it for the connector indices.
PRODUCT_ORIGIN_HEADER = {"X-elastic-product-origin": "connectors"}


def build_client(
    settings: Mapping[str, Any], *, user_agent: str | None = None
) -> AsyncElasticsearch:
    """Return an `AsyncElasticsearch` for `settings` (the config's `elasticsearch` mapping)."""
    host = str(settings.get("host") or "http://localhost:9200")
    kwargs: dict[str, Any] = {
        "hosts": [host],
        "node_class": "httpxasync",
        "request_timeout": float(settings.get("request_timeout", 240)),
        "retry_on_timeout": bool(settings.get("retry_on_timeout", True)),
        "max_retries": int(settings.get("max_retries", 5)),
        "retry_on_status": (429, 502, 503, 504),
    }
    if settings.get("api_key"):
        kwargs["api_key"] = settings["api_key"]
    elif settings.get("bearer_auth"):
        kwargs["bearer_auth"] = settings["bearer_auth"]
    elif settings.get("username") and settings.get("password") is not None:
        kwargs["basic_auth"] = (settings["username"], settings["password"])
    if host.startswith("https"):
        kwargs["verify_certs"] = bool(settings.get("verify_certs", True))
        if settings.get("ca_certs"):
            kwargs["ca_certs"] = settings["ca_certs"]
    if user_agent:
        kwargs["headers"] = {"user-agent": user_agent}
    return AsyncElasticsearch(**kwargs)
