"""run_checks: every planned check reports exactly once, results stream as they finish,
failures block only their dependants, and nothing raises or leaks."""

from __future__ import annotations

import asyncio

from sluice.core.checks import CHECKS, planned_checks, run_checks
from sluice.core.checks.result import CheckResult
from sluice.core.es import build_client
from tests.fakes.fake_security import Canned


def test_planned_checks_list_ids_and_titles_up_front():
    plan = planned_checks({"host": "http://x:9200"}, index_name="search-x", pipeline="p")
    assert plan[0] == ("connection", "Connection and latency")
    ids = [check_id for check_id, _ in plan]
    assert ids == [spec.id for spec in CHECKS]
    assert len(set(ids)) == len(ids)
    assert {
        "tls",
        "authentication",
        "product",
        "connector_api",
        "license",
        "api_keys",
        "privileges",
        "index_name",
        "index",
        "pipeline",
    } <= set(ids)


async def test_every_planned_check_reports_once(es_config):
    results = [r async for r in run_checks(es_config, index_name="search-x", pipeline="p")]
    assert sorted(r.id for r in results) == sorted(i for i, _ in planned_checks())
    for result in results:
        assert isinstance(result, CheckResult)
        assert result.status in ("ok", "warn", "fail", "skip")
        assert "\n" not in result.message
        assert result.duration_ms >= 0
        assert set(result.to_dict()) == {
            "id",
            "title",
            "status",
            "message",
            "hint",
            "duration_ms",
            "field",
        }


async def test_results_stream_as_they_finish(fake_es):
    """A slow license answer doesn't hold back the results that are ready."""
    fake_es.cluster.security = "off"
    original = fake_es.handle

    def slow_license(method, path, *args):
        if path == "/_license":
            import time

            time.sleep(1.0)
        return original(method, path, *args)

    fake_es.handle = slow_license
    arrived: list[tuple[str, float]] = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    async for result in run_checks({"host": fake_es.url}, index_name="search-x"):
        arrived.append((result.id, loop.time() - start))
    order = [check_id for check_id, _ in arrived]
    assert order[-1] == "license"
    assert dict(arrived)["product"] < 0.9


async def test_a_given_client_is_used_and_left_open(fake_es):
    fake_es.cluster.security = "off"
    client = build_client({"host": fake_es.url})
    try:
        results = [r async for r in run_checks({"host": fake_es.url}, client=client)]
        assert any(r.id == "product" and r.status == "ok" for r in results)
        assert (await client.info())["tagline"]  # still open
    finally:
        await client.close()


async def test_stopping_early_cancels_the_rest_cleanly(fake_es):
    fake_es.cluster.security = "off"
    checks = run_checks({"host": fake_es.url})
    first = await checks.__anext__()
    await checks.aclose()
    assert first.id in {spec.id for spec in CHECKS}
    leftover = [t for t in asyncio.all_tasks() if t.get_name().startswith("check-")]
    assert leftover == []


async def test_a_broken_answer_is_a_failed_check_not_an_exception(fake_es):
    fake_es.cluster.security = "off"
    # the connection check's two probes take the first two, the product check the third
    fake_es.queue("/", *[Canned(200, {}, b"{not json") for _ in range(3)])
    results = {r.id: r async for r in run_checks({"host": fake_es.url}, timeout=3)}
    assert results["product"].status == "fail"
    assert "answered something that is not Elasticsearch's JSON" in results["product"].message
    assert results["product"].field == "host"


async def test_a_bug_in_a_check_is_reported_with_secrets_masked(monkeypatch, fake_es):
    from dataclasses import replace

    from sluice.core.checks import runner

    secret = "Very-Secret-Password-42"

    async def broken(ctx):
        raise RuntimeError(f"bad value {ctx.settings['password']}\nsecond line")

    monkeypatch.setattr(
        runner,
        "CHECKS",
        tuple(replace(s, run=broken) if s.id == "pipeline" else s for s in runner.CHECKS),
    )
    fake_es.cluster.security = "off"
    settings = {"host": fake_es.url, "username": "elastic", "password": secret}
    results = {r.id: r async for r in run_checks(settings)}
    assert results["pipeline"].status == "fail"
    assert results["pipeline"].message == "unexpected error: RuntimeError: bad value ********"
    assert results["product"].status == "ok"
