"""SharePoint Online set up in the wizard and synced by Sluice's engine, against the FAKE
Microsoft cloud: the prerequisites, the form with its admin-consent link, a test connection
that fails on the secret's field and then passes with a certificate, and a sync that waits
out Microsoft's throttling on the dashboard."""

from __future__ import annotations

import pytest

from sluice.core.es import build_client
from sluice.tui.app import SluiceApp
from sluice.tui.screens.dashboard import DashboardScreen
from sluice.tui.widgets.copyable import CopyableValue
from tests.fakes.fake_microsoft import FakeMicrosoft
from tests.sources.sharepoint_tenant import build_tenant
from tests.tui.conftest import (
    SIZE,
    fill_elasticsearch,
    next_step,
    press_button,
    text_of,
    wait_for,
    wizard,
)
from tests.tui.test_local_sync import start_local_sync

pytestmark = pytest.mark.es


async def test_sharepoint_online_from_prerequisites_to_a_throttled_sync(
    tmp_path, es_config, unique, cleanup_indices
):
    index = f"search-sluice-test-spo-{unique}"
    cleanup_indices.append(index)
    with FakeMicrosoft() as fake:
        spo = build_tenant(fake)
        app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
        async with app.run_test(size=SIZE) as pilot:
            screen = wizard(app)
            # 1. the source, what it needs, run by Sluice's engine
            await pilot.press(*"sharepoint online")
            await pilot.press("enter", "enter")
            await wait_for(
                pilot,
                lambda: app.session.state.service_type == "sharepoint_online",
                what="source picked",
            )
            assert "Run by Sluice's engine" in text_of(screen.query_one("#prereq-runner"))
            ticks = screen.query_one("#prereq-list")
            prerequisites = " ".join(
                str(ticks.get_option_at_index(i).prompt) for i in range(ticks.option_count)
            )
            assert "Sites.Read.All" in prerequisites and "adminconsent" in prerequisites
            await next_step(pilot, app)
            await fill_elasticsearch(pilot, app, es_config)
            await next_step(pilot, app)
            name_input = screen.query_one("#connector-name")
            name_input.value = f"SPO {unique}"
            await next_step(pilot, app)
            await next_step(pilot, app)  # config.yml

            # 5. the form: Elastic's fields; the consent link follows the ids typed
            step = screen.steps[4]
            await wait_for(pilot, lambda: screen.query("#input-tenant_id"), what="SPO form")
            form = step.form
            form.set_value("tenant_id", spo.tenant.id)
            form.set_value("tenant_name", "contoso")
            form.set_value("client_id", spo.app.client_id)
            form.set_value("cloud", "custom")
            await pilot.pause()
            form.set_value("login_endpoint", fake.url)
            form.set_value("graph_endpoint", fake.url)
            form.set_value("secret_value", "the-secret-id-by-mistake")
            links = step.query_one("#setup-links")
            await wait_for(pilot, lambda: links.query(CopyableValue), what="consent link")
            link = links.query_one(CopyableValue)
            assert link.label == "Admin consent"
            consent = f"{fake.url}/{spo.tenant.id}/adminconsent?client_id={spo.app.client_id}"
            await wait_for(pilot, lambda: link.value == consent, what="the link to follow")
            # a wrong secret: Microsoft's code under the secret's field
            await press_button(pilot, "#source-test-button")
            status = screen.query_one("#field-secret_value-status")
            await wait_for(
                pilot, lambda: "AADSTS7000215" in text_of(status), timeout=30, what="secret error"
            )
            assert "Secret ID" in text_of(status)
            # a certificate instead: the test passes and says what a sync covers
            form.set_value("auth_method", "certificate")
            await pilot.pause()
            form.set_value("certificate", spo.certificate)
            form.set_value("private_key", spo.private_key)
            await pilot.pause()
            await press_button(pilot, "#source-test-button")
            result = screen.query_one("#source-test")
            await wait_for(
                pilot, lambda: "It will sync" in text_of(result), timeout=30, what="test passed"
            )
            assert "2 sites, 2 document libraries and 1 list" in text_of(result)
            await next_step(pilot, app, timeout=60)

            # 6. the index, 7. the sync: Microsoft throttles for a while, the sync waits
            screen.query_one("#index-name").value = index
            await next_step(pilot, app)
            fake.storm(seconds=3, retry_after=1)
            dashboard = await start_local_sync(pilot, app)
            assert isinstance(dashboard, DashboardScreen)
            stall = dashboard.query_one("#dash-stall")
            await wait_for(
                pilot,
                lambda: "throttled by Microsoft" in text_of(stall),
                timeout=30,
                what="the throttling shown",
            )
            assert "resuming in" in text_of(stall)
            await wait_for(
                pilot,
                lambda: "COMPLETED" in text_of(dashboard.query_one("#dash-status")),
                timeout=60,
                what="sync completed",
            )
            assert not stall.has_class("-shown")

    client = build_client(es_config)
    try:
        await client.indices.refresh(index=index)
        found = await client.search(index=index, size=100, query={"match_all": {}})
        kinds = {hit["_source"]["object_type"] for hit in found["hits"]["hits"]}
        assert {"site", "drive_item", "list_item", "site_page"} <= kinds
    finally:
        await client.close()
