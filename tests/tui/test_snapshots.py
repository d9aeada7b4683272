"""Visual snapshots of every screen at 80x24 (the smallest supported terminal), plus the
dashboard wide and a light-theme step. Inputs are pinned (tests/tui/pinned.py) so the
pictures only change when the look does; update with `pytest --snapshot-update`.

`snap_compare` runs its own event loop, so these tests are plain (non-async) functions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import datetime, timedelta

import pytest

from sluice.core.engine.progress import Phase, Stalled
from sluice.core.protocol import Connector, StoreUnavailable
from sluice.tui.app import SluiceApp
from sluice.tui.monitor_app import MonitorApp
from sluice.tui.screens import monitor
from sluice.tui.screens.wizard import WizardScreen
from sluice.tui.state import WizardState, save_state
from sluice.tui.widgets import connector_table
from tests.tui import pinned

SMALL = (80, 24)

#: A snapshot is one frame of an app whose checks land asynchronously: on a loaded machine
#: the frame can be taken mid-layout. One more try with a fresh app tells that apart from a
#: changed look, which fails every time.
pytestmark = pytest.mark.flaky(reruns=2)


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
    """Wait until the resumed step is on screen and no worker runs (twice in a row, 0.3 s
    apart: a check may start after a short debounce), then let animations end."""
    app = pilot.app
    deadline = asyncio.get_running_loop().time() + 15
    quiet, last = 0, None
    while quiet < 3 and asyncio.get_running_loop().time() < deadline:
        screen = app.screen
        shown = not isinstance(screen, WizardScreen) or screen.shown_step == screen.current
        busy = any(worker.is_running for worker in app.workers)
        # the focused field is scrolled into view once the step is up: wait until it stays
        where = (
            id(app.focused),
            tuple(w.scroll_offset for w in screen.query("*") if w.is_scrollable),
        )
        settled = shown and not busy and app.focused is not None and where == last
        quiet = quiet + 1 if settled else 0
        last = where
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
    """Button labels whole, the connector's name and id wrapped between words."""
    assert snap_compare(app_at(6), terminal_size=SMALL, run_before=settle)


def test_step6_index_name_taken(workdir, snap_compare):
    """The index of another connector, flagged under the name with a free one to use."""
    assert snap_compare(
        app_at(5, index_name="search-orders"), terminal_size=SMALL, run_before=settle
    )


def test_step5_source_errors(workdir, snap_compare):
    """Long labels above their fields at 80 columns; each error once, under its field."""

    async def bad_values(pilot):
        await settle(pilot)
        step = pilot.app.screen.step
        step.form.set_value("directory", "/srv/" + "very-long-folder-name/" * 6)
        step.form.set_value("pattern", "docs/[abc")
        await pilot.pause()
        step._revalidate(show_all=True)
        await settle(pilot)

    assert snap_compare(app_at(4), terminal_size=SMALL, run_before=bad_values)


def test_step2_light_theme(workdir, snap_compare):
    async def light(pilot):
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)

    assert snap_compare(app_at(1), terminal_size=SMALL, run_before=light)


def _dashboard(size, feed=None):
    async def open_dashboard(pilot):
        from sluice.tui.screens.dashboard import DashboardScreen

        await pilot.app.push_screen(DashboardScreen(feed or pinned.PinnedFeed()))
        await settle(pilot)

    return open_dashboard


class StalledWhileDeleting(pinned.PinnedFeed):
    """Deleting stale documents while Elasticsearch does not answer: the stall on the main
    panel, the deletion's own progress and ETA."""

    def poll(self):
        reading = super().poll()
        snapshot = reading.snapshot
        stalled = Stalled(time.time() - 40.5, 3, 5, "request timed out")  # "for 40 s"
        counters = dataclasses.replace(snapshot.counters, deleted=41_000)
        return dataclasses.replace(
            reading,
            snapshot=dataclasses.replace(
                snapshot,
                phase=Phase.DELETING,
                counters=counters,
                stale_done=41_000,
                stale_total=120_000,
                phase_rate=(120_000 - 41_000) / 79.5,  # an ETA of 79 s
                stalled=stalled,
            ),
        )


def test_dashboard_small(workdir, snap_compare):
    assert snap_compare(app_at(6), terminal_size=SMALL, run_before=_dashboard(SMALL))


def test_dashboard_small_stalled_while_deleting(workdir, snap_compare):
    """80x24 with every optional line shown: nothing clipped, no sideways scrolling."""
    feed = StalledWhileDeleting()
    assert snap_compare(app_at(6), terminal_size=SMALL, run_before=_dashboard(SMALL, feed))


def test_dashboard_wide(workdir, snap_compare):
    assert snap_compare(app_at(6), terminal_size=(120, 36), run_before=_dashboard((120, 36)))


class _PinnedNow(datetime):
    """`datetime.now()` at pinned.WHEN, so "5m ago" reads the same on every run."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return pinned.WHEN if tz is not None else pinned.WHEN.replace(tzinfo=None)


class FewConnectors(pinned.PinnedCluster):
    """A cluster with a few connectors in different states (one long name)."""

    async def list_connectors(self) -> list[Connector]:
        minutes = lambda n: (pinned.WHEN - timedelta(minutes=n)).isoformat()  # noqa: E731
        return [
            *await super().list_connectors(),
            Connector(
                "b7TqkZ0BpX4mWn2eRa03",
                {
                    "name": "Customer support tickets (Zendesk export)",
                    "service_type": "mysql",
                    "index_name": "search-support-tickets-2026",
                    "status": "connected",
                    "last_sync_status": "in_progress",
                    "last_synced": minutes(42),
                    "last_seen": minutes(0.2),
                },
            ),
            Connector(
                "c8UrlA1CqY5nXo3fSb04",
                {
                    "name": "HR policies",
                    "service_type": "dir",
                    "index_name": "",
                    "status": "needs_configuration",
                    "last_seen": minutes(60 * 26),
                },
            ),
        ]


class Unreachable(pinned.PinnedCluster):
    async def list_connectors(self) -> list[Connector]:
        raise StoreUnavailable("cannot reach Elasticsearch (All connection attempts failed)")


def _monitor(monkeypatch, cluster: type) -> MonitorApp:
    monkeypatch.setattr(monitor, "Cluster", cluster)
    monkeypatch.setattr(connector_table, "datetime", _PinnedNow)
    monkeypatch.setattr(monitor, "datetime", _PinnedNow)
    return MonitorApp({"host": "https://es.example.internal:9200"}, test_mode=True)


def test_monitor(workdir, snap_compare, monkeypatch):
    """80x24: name over id, status over last seen; no id is ever cut."""
    app = _monitor(monkeypatch, FewConnectors)
    assert snap_compare(app, terminal_size=SMALL, run_before=settle)


def test_monitor_wide(workdir, snap_compare, monkeypatch):
    """120 columns: every column on one line, nothing truncated."""
    app = _monitor(monkeypatch, FewConnectors)
    assert snap_compare(app, terminal_size=(120, 30), run_before=settle)


def test_monitor_unreachable(workdir, snap_compare, monkeypatch):
    """A cluster that cannot be reached: the banner, not "Reading the cluster…" forever."""
    app = _monitor(monkeypatch, Unreachable)
    assert snap_compare(app, terminal_size=SMALL, run_before=settle)
