"""What the cluster checks advise, against the stand-in: a recent server without the
Connector API (an emulator, or the feature disabled) is not told to upgrade."""

from __future__ import annotations

import pytest

from sluice.core.checks import collect_checks
from sluice.core.checks.cluster import detect_connector_api
from sluice.core.config.elastic_compat import FLAG
from tests.fakes.fake_connector_api import FakeConnectorApi


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


# ------------------------------------------------------------------ feature_use_connectors_api


async def _connector_api_result(settings):
    return {r.id: r for r in await collect_checks(settings)}["connector_api"]


async def test_flag_left_true_without_the_connector_api_warns_of_the_check_in_failure(es_config):
    if await detect_connector_api(es_config):
        pytest.skip("this cluster has the Connector API")
    # config.yml's settings always carry the flag (Elastic's default, true, merged in)
    result = await _connector_api_result({**es_config, FLAG: True})
    assert result.status == "warn" and result.field == FLAG
    assert result.message.startswith(f"elasticsearch.{FLAG} is true")
    assert "Elastic's service would fail at check-in" in result.message
    assert result.hint == (
        f"set elasticsearch.{FLAG}: false in config.yml (Sluice then uses the "
        ".elastic-connectors indices too)"
    )
    fixed = await _connector_api_result({**es_config, FLAG: False})
    assert fixed.status == "ok" and "index mode" in fixed.message


async def test_flag_false_where_the_connector_api_answers_warns_of_the_deprecated_path(
    es_config,
):
    with FakeConnectorApi(es_config["host"]) as fake:
        settings = {**es_config, "host": fake.url}
        assert (await _connector_api_result(settings)).status == "ok"
        assert (await _connector_api_result({**settings, FLAG: True})).status == "ok"
        result = await _connector_api_result({**settings, FLAG: False})
    assert result.status == "warn" and result.field == FLAG
    assert result.message.startswith("Connector API available")
    assert "deprecates" in result.message
    assert result.hint.startswith(f"remove elasticsearch.{FLAG}")


async def test_detect_connector_api_answers_yes_no_or_unknown(es_config):
    with FakeConnectorApi(es_config["host"]) as fake:
        assert await detect_connector_api({**es_config, "host": fake.url}) is True
    # the stand-in has none; a real cluster says what `sluice check` says
    listed = (await _connector_api_result(es_config)).message.startswith("Connector API available")
    assert await detect_connector_api(es_config) is listed
    assert await detect_connector_api({"host": "http://127.0.0.1:9", "max_retries": 0}) is None
    assert await detect_connector_api({"host": "not a url"}) is None
