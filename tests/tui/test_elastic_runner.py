"""The whole wizard for connector types Elastic's connector service runs (SharePoint Online,
Confluence), driven with Pilot against the real cluster and the FAKE of Elastic's service
(tests/fakes/fake_elastic_service.py): no check-in for a while (the doctor explains), the
schema the service writes becomes the form, its validation error lands on the field, a job
it runs is followed to completion on the dashboard, and a cancel reaches it."""

from __future__ import annotations

import uuid

import pytest
import yaml

from sluice.core.es import build_client
from sluice.core.protocol import open_store
from sluice.tui.app import SluiceApp
from sluice.tui.screens.dashboard import DashboardScreen
from sluice.tui.widgets import checkin_watch
from sluice.tui.widgets.check_list import CheckList
from sluice.tui.widgets.checkin_watch import CheckinWatch
from tests.fakes.fake_elastic_service import FakeElasticService
from tests.tui.conftest import SIZE, fill_elasticsearch, next_step, text_of, wait_for, wizard

pytestmark = pytest.mark.es

GUID = str(uuid.UUID(int=0x5EED))


@pytest.fixture(autouse=True)
def quick_watch(monkeypatch):
    """The watch polls and calls the doctor sooner than a person needs."""
    monkeypatch.setattr(checkin_watch, "POLL_SECONDS", 0.3)
    monkeypatch.setattr(checkin_watch, "DOCTOR_AFTER", 0.5)


async def walk_to_source_details(
    pilot, app, es_config, search: str, service_type: str, name, *, hand_over: bool = False
):
    """Steps 1-4 with the keyboard; returns at step 5 (nothing has checked in).
    `hand_over`: a type Sluice runs, given to Elastic's service by the user's choice."""
    screen = wizard(app)
    await pilot.press(*search)
    await pilot.press("enter", "enter")
    await wait_for(
        pilot, lambda: app.session.state.service_type == service_type, what="source picked"
    )
    if hand_over:
        assert "Run by Sluice's engine" in text_of(screen.query_one("#prereq-runner"))
        screen.query_one("#run-by-elastic").value = True
        await wait_for(pilot, lambda: app.session.run_by_elastic, what="handed over")
    prerequisites = text_of(screen.query_one("#prereq-runner"))
    assert "Run by Elastic's connector service" in prerequisites
    assert "https://www.elastic.co/docs/reference/search-connectors/" in prerequisites
    await next_step(pilot, app)
    await fill_elasticsearch(pilot, app, es_config)
    await next_step(pilot, app)
    name_input = screen.query_one("#connector-name")
    name_input.value = ""
    name_input.focus()
    await pilot.press(*name)
    await next_step(pilot, app)
    await next_step(pilot, app)  # config.yml, written
    assert screen.current == 4
    return screen


def doctor_rows(screen) -> str:
    doctor = screen.query_one("#checkin-doctor", CheckList)
    return "\n".join(text_of(row) for row in doctor.query(".check-row"))


async def connector_doc(es_config, connector_id):
    client = build_client(es_config)
    try:
        store = await open_store(client)
        return await store.get_connector(connector_id)
    finally:
        await client.close()


async def test_sharepoint_online_handed_to_elastics_service_to_a_completed_sync(
    tmp_path, es_config, unique, cleanup_indices
):
    config = tmp_path / "config.yml"
    index = f"search-sluice-test-spo-{unique}"
    cleanup_indices.append(index)
    app = SluiceApp(str(config), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await walk_to_source_details(
            pilot,
            app,
            es_config,
            "sharepoint online",
            "sharepoint_online",
            f"SPO {unique}",
            hand_over=True,  # Sluice runs SharePoint Online; document level security would not
        )
        connector_id = app.session.state.connector_id
        # the record as Kibana makes it; config.yml names it for Elastic's service
        record = await connector_doc(es_config, connector_id)
        assert str(record.status) == "created" and not record.configuration
        entry = yaml.safe_load(config.read_text())["connectors"][0]
        assert entry == {"connector_id": connector_id, "service_type": "sharepoint_online"}

        # silence: the watch says it waits, the doctor comes up, Next is held back
        watch = screen.query_one(CheckinWatch)
        await wait_for(pilot, lambda: watch.has_class("-doctor"), what="doctor shown")
        await wait_for(
            pilot,
            lambda: "no service has checked in for this connector yet" in doctor_rows(screen),
            what="heartbeat row",
        )
        assert f"names {connector_id} (sharepoint_online)" in doctor_rows(screen)
        assert "waiting for Elastic's connector service" in text_of(
            screen.query_one("#checkin-line")
        )
        assert "check in" in (screen.step.blocker() or "")
        assert screen.query_one("#next").disabled

        with FakeElasticService.for_settings(
            es_config, {connector_id: "sharepoint_online"}, interval=0.2, total_docs=30
        ) as service:
            # the schema it writes becomes the form
            step = screen.steps[4]
            await wait_for(pilot, lambda: screen.query("#input-tenant_id"), what="SPO form")
            assert not watch.has_class("-doctor")
            form = step.form
            # as a user sees it: the cursor in the first field, once the form is up
            await wait_for(
                pilot,
                lambda: app.focused is screen.query_one("#input-tenant_id"),
                what="first field focused",
            )
            assert {"tenant_id", "client_id", "secret_value", "site_collections"} <= set(
                form.fields
            )
            form.set_value("tenant_id", "not-a-guid")
            form.set_value("tenant_name", "contoso")
            form.set_value("client_id", "0f1e2d3c")
            screen.query_one("#input-secret_value").focus()
            await pilot.press(*"s3cret-välue")
            await pilot.pause()
            # Next saves, the service says no: its words under the Tenant ID field
            await pilot.press("ctrl+n")
            tenant_status = screen.query_one("#field-tenant_id-status")
            await wait_for(
                pilot,
                lambda: "is not a valid GUID" in text_of(tenant_status),
                timeout=30,
                what="the service's error on the field",
            )
            assert screen.current == 4
            assert "Tenant ID" in text_of(screen.query_one("#source-test"))
            assert "rejected" in (screen.step.blocker() or "")
            record = await connector_doc(es_config, connector_id)
            assert str(record.status) == "error"
            assert record.configuration["secret_value"]["value"] == "s3cret-välue"

            # fixed: connected, and on to the index
            form.set_value("tenant_id", GUID)
            await pilot.pause()
            await next_step(pilot, app, timeout=45)
            assert screen.current == 5
            record = await connector_doc(es_config, connector_id)
            assert str(record.status) == "connected"
            screen.query_one("#index-name").value = index
            await next_step(pilot, app)

            # the job: queued for the service, followed live to completion
            summary = text_of(screen.query_one("#review-tip"))
            assert "Elastic's connector service claims and runs" in summary
            assert not screen.query_one("#hand-over").display
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="dashboard")
            dashboard = app.screen
            assert "run by Elastic's connector service" in text_of(
                dashboard.query_one("#dash-title")
            )
            await wait_for(
                pilot,
                lambda: "COMPLETED" in text_of(dashboard.query_one("#dash-status")),
                timeout=45,
                what="job completed",
            )
            assert service.claimed, "the fake service claimed the job"
    client = build_client(es_config)
    try:
        await client.indices.refresh(index=index)
        assert (await client.count(index=index))["count"] == 30
    finally:
        await client.close()


async def test_confluence_job_canceled_from_the_dashboard(
    tmp_path, es_config, unique, cleanup_indices
):
    config = tmp_path / "config.yml"
    index = f"search-sluice-test-cfl-{unique}"
    cleanup_indices.append(index)
    app = SluiceApp(str(config), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await walk_to_source_details(
            pilot, app, es_config, "confluence", "confluence", f"Wiki {unique}"
        )
        connector_id = app.session.state.connector_id
        with FakeElasticService.for_settings(
            es_config,
            {connector_id: "confluence"},
            interval=0.3,
            docs_per_loop=2,
            total_docs=100_000,
        ):
            await wait_for(pilot, lambda: screen.query("#input-confluence_url"), what="form")
            await wait_for(
                pilot,
                lambda: app.focused is screen.query_one("#input-data_source"),
                what="first field focused",
            )
            form = screen.steps[4].form
            # the Server fields show for the default data source; Cloud's are hidden
            assert form.fields["username"].display
            assert not form.fields["api_token"].display
            form.set_value("username", "ana")
            form.set_value("password", "pässwörd")
            form.set_value("confluence_url", "https://wiki.example.com")
            form.set_value("spaces", "ENG,OPS")
            await pilot.pause()
            await next_step(pilot, app, timeout=45)
            screen.query_one("#index-name").value = index
            await next_step(pilot, app)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="dashboard")
            dashboard = app.screen
            await wait_for(
                pilot,
                lambda: "IN PROGRESS" in text_of(dashboard.query_one("#dash-status")),
                timeout=30,
                what="job running",
            )
            await pilot.press("c")
            await pilot.pause(0.3)
            await pilot.press("y")
            await wait_for(
                pilot,
                lambda: "CANCELED" in text_of(dashboard.query_one("#dash-status")),
                timeout=30,
                what="job canceled",
            )
    record = await connector_doc(es_config, connector_id)
    assert str(record.last_sync_status) == "canceled"


async def test_a_type_sluice_runs_handed_to_elastics_service(tmp_path, es_config, unique):
    """The tick box on step 1: the folder source, run by Elastic's service — created empty
    as Kibana does (Elastic's service writes its own schema), no keyring for its secret, and
    step 5 waits for that service instead of testing here."""
    config = tmp_path / "config.yml"
    app = SluiceApp(str(config), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = wizard(app)
        await pilot.press(*"folder")
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: app.session.state.service_type == "dir", what="picked")
        hand_over = screen.query_one("#run-by-elastic")
        assert hand_over.display
        assert "Run by Sluice's engine" in text_of(screen.query_one("#prereq-runner"))
        hand_over.value = True
        await wait_for(pilot, lambda: app.session.run_by_elastic, what="runner chosen")
        assert "Run by Elastic's connector service" in text_of(screen.query_one("#prereq-runner"))
        await next_step(pilot, app)
        await fill_elasticsearch(pilot, app, es_config)
        await next_step(pilot, app)
        name_input = screen.query_one("#connector-name")
        name_input.value = f"Handed over {unique}"
        await next_step(pilot, app)
        record = await connector_doc(es_config, app.session.state.connector_id)
        assert str(record.status) == "created" and not record.configuration
        assert screen.query_one("#placement-keyring").disabled
        await next_step(pilot, app)
        assert screen.current == 4
        await wait_for(
            pilot,
            lambda: "check in" in (screen.step.blocker() or ""),
            what="waiting for Elastic's service",
        )
        assert screen.query_one(CheckinWatch).display
        assert not screen.query_one("#use-sample").display
