"""Pick the store backend a cluster supports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from elasticsearch import ApiError, AsyncElasticsearch, TransportError

from sluice.core.config.elastic_compat import wants_index_mode
from sluice.core.protocol.api_store import ApiConnectorStore
from sluice.core.protocol.errors import StoreUnavailable
from sluice.core.protocol.es_errors import transport_problem
from sluice.core.protocol.index_store import IndexConnectorStore
from sluice.core.protocol.store import ConnectorStore

Backend = Literal["api", "index"]


async def connector_api_available(client: AsyncElasticsearch) -> bool:
    """True when `GET _connector` answers 200 (Elasticsearch 8.12+ with the Connector API)."""
    try:
        await client.connector.list(size=1)
    except ApiError:
        return False
    except TransportError as exc:
        raise StoreUnavailable(transport_problem(exc)) from None
    return True


async def _has_claim_endpoint(client: AsyncElasticsearch) -> bool:
    """`PUT _connector/_sync_job/<id>/_claim` arrived in Elasticsearch 8.15."""
    try:
        number = str((await client.info())["version"]["number"])
        major, minor = (int(part) for part in number.split(".")[:2])
    except (ApiError, TransportError, KeyError, ValueError):
        return True
    return (major, minor) >= (8, 15)


def backend_preference(es_settings: Mapping[str, Any] | None) -> Backend | None:
    """The backend config.yml asks for: "index" when `elasticsearch.feature_use_connectors_api`
    is false (Elastic's service then uses the indices directly, so Sluice must too), else
    None (the API where the cluster has it)."""
    return "index" if wants_index_mode(es_settings) else None


async def open_store(
    client: AsyncElasticsearch,
    *,
    prefer: Backend | None = None,
    index_prefix: str = "",
    es_settings: Mapping[str, Any] | None = None,
) -> ConnectorStore:
    """The Connector API backend where the cluster has the API, else direct index access
    (the indices are created with Elastic's mappings when missing). `prefer` forces one;
    without it, `es_settings` (config.yml's `elasticsearch` section) may ask for index mode
    (`backend_preference`). `index_prefix` is for tests only (a private pair of indices)."""
    if prefer is None:
        prefer = backend_preference(es_settings)
    if prefer not in (None, "api", "index"):
        raise ValueError(f"prefer must be 'api', 'index' or None, not {prefer!r}")
    if prefer != "index" and await connector_api_available(client):
        claim = await _has_claim_endpoint(client)
        return ApiConnectorStore(client, index_prefix=index_prefix, claim_endpoint=claim)
    if prefer == "api":
        raise StoreUnavailable(
            "this cluster has no Connector API (GET _connector did not answer 200); it needs "
            "Elasticsearch 8.12 or later and the manage_connector or monitor_connector privilege"
        )
    store = IndexConnectorStore(client, index_prefix=index_prefix)
    await store.ensure_indices()
    return store
