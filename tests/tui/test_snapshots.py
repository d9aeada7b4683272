"""Visual snapshots of every screen at 80x24 (the smallest supported terminal), plus the
dashboard wide and a light-theme step. Inputs are pinned (tests/tui/pinned.py) so the
pictures only change when the look does; update with `pytest --snapshot-update`.

`snap_compare` runs its own event loop, so these tests are plain (non-async) functions.
"""

from __future__ import annotations

import pytest

from tests.tui import pinned
from tui.app import SluiceApp
from tui.monitor_app import MonitorApp
from tui.state import WizardState, save_state

SMALL = (80, 24)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    pinned.pin(monkeypatch, tmp_path)
    return tmp_path


def app_at(step: int, **state_values) -> SluiceApp:
    state = WizardState(
        step=step,
        completed=list(range(step)),
        service_type="dir",
        es_host="https://es.example.internal:9200",
        es_auth="api_key",
        es_ca_certs="/etc/sluice/http_ca.crt",
        connector_id=pinned.CONNECTOR_ID if step > 2 else None,
        connector_name="Team wiki files",
        connector_description="Markdown and PDFs of the team wiki",
        config_path="config.yml",
        secret_placement="env",
        index_name="search-team-wiki",
        config_written=step > 3,
    )
    for key, value in state_values.items():
        setattr(state, key, value)
    save_state(state, "config.yml")
    app = SluiceApp("config.yml", test_mode=True)
    app.session.es_api_key = "pinned-demo-api-key-not-real"
    return app


async def settle(pilot) -> None:
    await pilot.pause(0.3)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.2)


def test_step1_prerequisites(workdir, snap_compare):
    assert snap_compare(app_at(0), terminal_size=SMALL, run_before=settle)


def test_step2_elasticsearch(workdir, snap_compare):
    assert snap_compare(app_at(1), terminal_size=SMALL, run_before=settle)


def test_step3_connector(workdir, snap_compare):
    assert snap_compare(app_at(2), terminal_size=SMALL, run_before=settle)


def test_step4_config_file(workdir, snap_compare):
    assert snap_compare(app_at(3), terminal_size=SMALL, run_before=settle)


def test_step5_source_details(workdir, snap_compare):
    assert snap_compare(app_at(4), terminal_size=SMALL, run_before=settle)


def test_step6_index(workdir, snap_compare):
    assert snap_compare(app_at(5), terminal_size=SMALL, run_before=settle)


def test_step7_review(workdir, snap_compare):
    assert snap_compare(app_at(6), terminal_size=SMALL, run_before=settle)


def test_step2_light_theme(workdir, snap_compare):
    async def light(pilot):
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)

    assert snap_compare(app_at(1), terminal_size=SMALL, run_before=light)


def _dashboard(size):
    async def open_dashboard(pilot):
        from tui.screens.dashboard import DashboardScreen

        await pilot.app.push_screen(DashboardScreen(pinned.PinnedFeed()))
        await settle(pilot)

    return open_dashboard


def test_dashboard_small(workdir, snap_compare):
    assert snap_compare(app_at(6), terminal_size=SMALL, run_before=_dashboard(SMALL))


def test_dashboard_wide(workdir, snap_compare):
    assert snap_compare(app_at(6), terminal_size=(120, 36), run_before=_dashboard((120, 36)))


def test_monitor(workdir, snap_compare):
    app = MonitorApp({"host": "https://es.example.internal:9200"}, test_mode=True)
    assert snap_compare(app, terminal_size=SMALL, run_before=settle)
