"""The dashboard watching a job handed to the service (cancel with confirmation), and
`sluice monitor` listing the cluster's connectors without ever writing."""

from __future__ import annotations

import pytest

from sluice.core.es import build_client
from sluice.core.protocol import JobStatus, open_store
from sluice.tui.app import SluiceApp
from sluice.tui.monitor_app import MonitorApp
from sluice.tui.screens.dashboard import DashboardScreen
from sluice.tui.screens.modals import ConfirmScreen
from sluice.tui.state import WizardState, save_state
from tests.tui.conftest import SIZE, press_button, text_of, wait_for, wizard

pytestmark = pytest.mark.es


async def syncable_connector(es_config, name: str, index: str, directory: str) -> str:
    """A connector ready to sync: configured, with its index attached."""
    from sluice.sources.registry import get_source_class

    client = build_client(es_config)
    try:
        store = await open_store(client)
        connector = await store.create_connector(index_name=index, service_type="dir", name=name)
        source = get_source_class("dir")
        await store.update_configuration(
            connector.id, schema=source.default_configuration(), values={"directory": directory}
        )
        return connector.id
    finally:
        await client.close()


def review_state(tmp_path, es_config, connector_id: str, index: str) -> str:
    config = tmp_path / "config.yml"
    state = WizardState(
        step=6,
        completed=list(range(6)),
        service_type="dir",
        es_host=es_config["host"],
        es_auth="none",
        connector_id=connector_id,
        connector_name="dashboard test",
        config_path=str(config),
        config_written=True,
        index_name=index,
    )
    save_state(state, config)
    return str(config)


async def handed_over(pilot, app: SluiceApp) -> DashboardScreen:
    """From the Review step, "Hand over": the dashboard, once it shows the queued job."""
    await wait_for(pilot, lambda: wizard(app).shown_step == 6, what="review step")
    await press_button(pilot, "#hand-over")
    await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="dashboard")
    dashboard = app.screen
    assert isinstance(dashboard, DashboardScreen)
    status = dashboard.query_one("#dash-status")
    await wait_for(pilot, lambda: "PENDING" in text_of(status), what="pending job")
    return dashboard


async def test_hand_over_queues_a_job_and_cancel_asks_first(
    tmp_path, es_config, docs_dir, unique, cleanup_indices
):
    if es_config.get("api_key") or es_config.get("username"):
        pytest.skip("the review state here uses a cluster without authentication")
    index = f"search-sluice-test-dash-{unique}"
    cleanup_indices.append(index)
    connector_id = await syncable_connector(es_config, f"dash {unique}", index, str(docs_dir))
    app = SluiceApp(review_state(tmp_path, es_config, connector_id, index), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        dashboard = await handed_over(pilot, app)
        status = dashboard.query_one("#dash-status")
        job_id = app.session.state.last_job_id
        assert job_id
        # cancel asks first; "n" keeps the job
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is dashboard, what="back on dashboard")
        client = build_client(es_config)
        try:
            store = await open_store(client)
            assert (await store.get_job(job_id)).status == JobStatus.PENDING
            # "y" cancels it: a pending job is canceled at once
            await pilot.press("c")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
            await pilot.press("y")
            await wait_for(
                pilot, lambda: "CANCELED" in text_of(status), timeout=15, what="canceled shown"
            )
            assert (await store.get_job(job_id)).status == JobStatus.CANCELED
        finally:
            await client.close()
        # the history tab lists the job
        history = dashboard.query_one("#history")
        await wait_for(
            pilot, lambda: job_id in [k.value for k in history.rows], what="job in history"
        )
        # one client watched the job all along; leaving the dashboard closes it
        assert dashboard.feed.watcher.is_open
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not dashboard, what="dashboard left")
        await wait_for(pilot, lambda: not dashboard.feed.watcher.is_open, what="client closed")


async def test_monitor_lists_connectors_and_never_writes(es_config, unique, fake_es):
    if es_config.get("api_key") or es_config.get("username"):
        pytest.skip("the fake proxies to the unauthenticated stand-in")
    name = f"monitor {unique}"
    client = build_client(es_config)
    try:
        store = await open_store(client)
        connector = await store.create_connector(index_name="", service_type="dir", name=name)
    finally:
        await client.close()
    fake_es.cluster.security = "off"
    fake_es.cluster.connector_api = False  # like the stand-in: the connector indices are read
    fake_es.requests.clear()
    app = MonitorApp({"host": fake_es.url}, refresh_seconds=1.0, test_mode=True)
    async with app.run_test(size=(140, 30)) as pilot:
        table = app.screen.query_one("#connectors")
        await wait_for(
            pilot, lambda: connector.id in [k.value for k in table.rows], what="connector listed"
        )
        # one line per value, whether the table lays the row out flat or stacked (a cluster
        # holding connectors with long names stacks them)
        lines = [line for cell in table.row_lines(connector.id) for line in cell.split("\n")]
        assert name in lines
        assert "· created" in lines  # status in words
        await pilot.pause(1.5)  # at least one more refresh
        await pilot.press("j")
        await pilot.pause(0.5)
    writes = [
        r
        for r in fake_es.requests
        if r.method not in ("GET", "HEAD")
        and not (r.method == "POST" and r.path.split("?")[0].endswith(("/_search", "_search")))
    ]
    assert fake_es.requests, "the monitor made no request at all"
    assert writes == []


async def test_w_on_the_dashboard_explains_a_job_no_service_claims(
    tmp_path, es_config, docs_dir, unique, cleanup_indices
):
    if es_config.get("api_key") or es_config.get("username"):
        pytest.skip("the review state here uses a cluster without authentication")
    from sluice.tui.screens.explain import ExplainScreen

    index = f"search-sluice-test-dashwhy-{unique}"
    cleanup_indices.append(index)
    connector_id = await syncable_connector(es_config, f"why {unique}", index, str(docs_dir))
    app = SluiceApp(review_state(tmp_path, es_config, connector_id, index), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        dashboard = await handed_over(pilot, app)
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, ExplainScreen), what="explain")
        screen = app.screen
        await wait_for(pilot, lambda: screen.result is not None, what="the explanation")
        assert screen.result.job_id == app.session.state.last_job_id
        findings = " ".join(text_of(w) for w in screen.query(".finding"))
        assert f"No service runs connector {connector_id}" in findings
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is dashboard, what="back on the dashboard")
