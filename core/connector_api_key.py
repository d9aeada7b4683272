"""An API key that can do only what one connector needs (Elastic's least-privilege role).

`cluster: [monitor, manage_connector]`, `all` on the content index, its document-level-security
index `.search-acl-filter-<index>` and `.elastic-connectors*` — as Elastic documents for
self-managed connectors. The key is returned once (Elasticsearch never shows it again); the
caller decides where it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch

ACL_PREFIX = ".search-acl-filter-"


class ApiKeyUnavailable(RuntimeError):
    """This cluster can't make API keys (security off, API missing, or not allowed)."""


@dataclass(frozen=True)
class ConnectorApiKey:
    id: str
    name: str
    encoded: str = field(repr=False)  # base64 "id:secret", what config.yml's api_key takes


def role_descriptors(connector_name: str, index_name: str) -> dict[str, Any]:
    return {
        f"{connector_name}-connector-role": {
            "cluster": ["monitor", "manage_connector"],
            "indices": [
                {
                    "names": [index_name, f"{ACL_PREFIX}{index_name}", ".elastic-connectors*"],
                    "privileges": ["all"],
                    "allow_restricted_indices": False,
                }
            ],
        }
    }


def key_name(connector_name: str) -> str:
    return f"{connector_name}-connector-api-key"


async def create_connector_api_key(
    client: AsyncElasticsearch, *, connector_name: str, index_name: str
) -> ConnectorApiKey:
    """Create the key; `ApiKeyUnavailable` explains when the cluster can't."""
    safe_name = "".join(c if c.isalnum() or c in "-_." else "-" for c in connector_name) or "sluice"
    try:
        response = await client.security.create_api_key(
            name=key_name(safe_name),
            role_descriptors=role_descriptors(safe_name, index_name),
            metadata={"created_by": "sluice", "index_name": index_name},
        )
    except ApiError as exc:
        status = exc.meta.status
        if status == 403:
            raise ApiKeyUnavailable(
                "the credentials of step 2 may not create API keys (they need the "
                "manage_api_key and manage_connector cluster privileges)"
            ) from None
        if status in (404, 405, 410) or "security" in str(exc).lower():
            raise ApiKeyUnavailable(
                "security is not enabled on this cluster, so it has no API keys; "
                "keep using the credentials of step 2"
            ) from None
        raise ApiKeyUnavailable(
            f"Elasticsearch refused the API key ({status}): {exc.message}"
        ) from None
    body = response.body
    return ConnectorApiKey(id=str(body["id"]), name=str(body["name"]), encoded=str(body["encoded"]))
