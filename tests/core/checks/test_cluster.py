"""What the cluster checks advise, against the stand-in: a recent server without the
Connector API (an emulator, or the feature disabled) is not told to upgrade."""

from __future__ import annotations

import pytest

from core.checks import collect_checks


async def test_recent_server_without_connector_api_uses_index_mode_no_upgrade(es_config):
    results = {r.id: r for r in await collect_checks(es_config)}
    connector_api = results["connector_api"]
    if connector_api.message.startswith("Connector API available"):
        pytest.skip("this cluster has the Connector API")
    product = results["product"]
    assert product.status == "ok" and product.message.startswith("Elasticsearch 8.")
    version = product.message.split()[1]  # "8.15.3"
    assert connector_api.status == "ok"
    assert f"reports {version}" in connector_api.message
    assert "index mode" in connector_api.message and "fine" in connector_api.message
    assert connector_api.hint is None
    for result in results.values():
        assert "upgrade" not in f"{result.message} {result.hint}".lower(), result
