"""Remove what the test session left in the cluster's shared connector indices.

Most tests use private connector indices; the TUI, CLI and service tests use the real
`.elastic-connectors` (as users do), so their connector records would pile up — in Kibana
too, on a real cluster. At the end of a session this deletes, for good, the connectors that
only tests create: those named with a token the `unique` fixture handed out in this session,
and those for a `search-sluice-test-*` index that no longer exists (their test is over) —
with their sync jobs. Nothing else is touched."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from elasticsearch import AsyncElasticsearch, NotFoundError

from sluice.core.checks.cluster import detect_connector_api
from sluice.core.es import build_client
from sluice.core.protocol import CONNECTORS_ALIAS, JOBS_ALIAS

#: Tokens the `unique` fixtures handed out: connectors named with one are the session's.
UNIQUE_TOKENS: set[str] = set()

#: Content-index prefix reserved for tests (README: "Tests against a real cluster").
TEST_INDEX_PREFIX = "search-sluice-test-"


def is_test_connector(doc: Mapping[str, Any], tokens: Iterable[str], index_exists: bool) -> bool:
    """Named with one of this session's tokens, or for a test index that is gone (its test
    ended: a test still running elsewhere — another session on the same cluster — still has
    its index, so its connector is left alone)."""
    index_name = str(doc.get("index_name") or "")
    name = str(doc.get("name") or "")
    if any(t in name for t in tokens):
        return True
    return index_name.startswith(TEST_INDEX_PREFIX) and not index_exists


async def _forget(client: AsyncElasticsearch, tokens: set[str], use_api: bool) -> int:
    try:
        found = await client.search(
            index=CONNECTORS_ALIAS, size=10_000, source=["index_name", "name"]
        )
    except NotFoundError:
        return 0
    ids = []
    for hit in found["hits"]["hits"]:
        index_name = str(hit["_source"].get("index_name") or "")
        exists = bool(index_name) and bool(await client.indices.exists(index=index_name))
        if is_test_connector(hit["_source"], tokens, exists):
            ids.append(hit["_id"])
    for connector_id in ids:
        if use_api:  # the API's hard delete: the record and its jobs
            await client.options(ignore_status=404).perform_request(
                "DELETE",
                f"/_connector/{connector_id}",
                params={"delete_sync_jobs": "true", "hard": "true"},
                headers={"accept": "application/json"},
            )
        else:
            await client.options(ignore_status=404).delete_by_query(
                index=JOBS_ALIAS,
                query={"term": {"connector.id": connector_id}},
                conflicts="proceed",
                refresh=True,
            )
            await client.options(ignore_status=404).delete(
                index=CONNECTORS_ALIAS, id=connector_id, refresh=True
            )
    return len(ids)


def forget_test_connectors(settings: Mapping[str, Any], tokens: set[str]) -> int:
    """Delete the session's test connectors; how many. Never fails the session."""

    async def run() -> int:
        use_api = bool(await detect_connector_api(settings))
        client = build_client(dict(settings))
        try:
            return await _forget(client, tokens, use_api)
        finally:
            await client.close()

    try:
        return asyncio.run(run())
    except Exception:  # a stopped server at the end of a session is not a test failure
        return 0
