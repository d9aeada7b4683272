"""`sluice monitor` tells the truth about the cluster: a banner within one refresh when it
cannot be read (closed port, a cluster that hangs, a cluster that goes away mid-way), stale
rows while it lasts, and recovery by itself. Plus the layout at 80 columns and Escape on
the Keys panel.

The cluster "going away" is a small TCP proxy in front of the local stand-in that the test
cuts and restores; the shared stand-in itself is never stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from urllib.parse import urlsplit

import pytest
from textual.widgets import HelpPanel

from sluice.core.es import build_client
from sluice.core.protocol import open_store
from sluice.tui.app import SluiceApp
from sluice.tui.monitor_app import MonitorApp
from sluice.tui.widgets.connector_table import STALE_STYLE
from tests.tui.conftest import text_of, wait_for

INTERVAL = 1.0
#: A banner must land within one refresh (a read's deadline is under the interval); the
#: margin is for a loaded test machine, far below the ~26 s the retries used to take.
WITHIN_ONE_REFRESH = 2 * INTERVAL + 1.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Proxy:
    """TCP proxy to the cluster on a fixed loopback port; `cut()` closes the port and every
    open connection (a cluster stopped), `restore()` listens again (the cluster is back)."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 9200)
        self.port = free_port()
        self.url = f"{parts.scheme}://127.0.0.1:{self.port}"
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._links):
            writer.close()
        self._links.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._links |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()
        self._links.discard(writer)


async def silent_server() -> tuple[asyncio.Server, int]:
    """A port that accepts connections and never answers (a hung cluster, a dead tunnel)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def banner(app: MonitorApp):
    return app.screen.query_one("#monitor-banner")


def dimmed(app: MonitorApp, connector_id: str) -> bool:
    row = app.screen.query_one("#connectors").get_row(connector_id)
    return all(STALE_STYLE in str(getattr(cell, "style", "")) for cell in row)


async def remove_records(client, connector_id: str) -> None:
    """A test's connector record and its jobs, gone (straight from the indices)."""
    from sluice.core.protocol import CONNECTORS_ALIAS, JOBS_ALIAS

    direct = client.options(headers={"X-elastic-product-origin": "connectors"}, ignore_status=404)
    await direct.delete_by_query(
        index=JOBS_ALIAS, query={"term": {"connector.id": connector_id}}, refresh=True
    )
    await direct.delete(index=CONNECTORS_ALIAS, id=connector_id, refresh=True)


async def test_closed_port_shows_the_banner_within_one_refresh():
    port = free_port()
    app = MonitorApp({"host": f"http://127.0.0.1:{port}"}, refresh_seconds=INTERVAL)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: banner(app).shown, WITHIN_ONE_REFRESH, "the banner")
        text = text_of(banner(app))
        assert f"Cannot reach Elasticsearch at http://127.0.0.1:{port}: " in text
        assert "no good read yet; retrying every 1s" in text
        info = text_of(app.screen.query_one("#monitor-info"))
        assert "Reading the cluster" not in info
        assert "no connector read yet" in info


async def test_the_monitor_loads_the_app_stylesheet():
    """Both apps share app.tcss (its toast width here), not only SluiceApp."""
    app = MonitorApp({"host": f"http://127.0.0.1:{free_port()}"}, refresh_seconds=INTERVAL)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.notify("hello")
        await wait_for(pilot, lambda: app.screen.query("Toast"), 2, "the toast")
        assert app.screen.query_one("Toast").styles.max_width.value == 60


async def test_a_cluster_that_never_answers_is_reported_too():
    """Reads have a deadline under the interval and a tick never restarts one in flight, so
    a hang is reported instead of "Reading the cluster…" forever."""
    server, port = await silent_server()
    try:
        app = MonitorApp({"host": f"http://127.0.0.1:{port}"}, refresh_seconds=INTERVAL)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: banner(app).shown, WITHIN_ONE_REFRESH, "the banner")
            assert "no answer within 0.8s" in text_of(banner(app))
    finally:
        server.close()


@pytest.mark.es
async def test_cluster_going_away_and_back(es_config, unique):
    if not es_config["host"].startswith("http://"):
        pytest.skip("the proxy forwards plain HTTP to the local stand-in")
    name = f"monitor stale {unique}"
    client = build_client(es_config)
    try:
        store = await open_store(client)
        connector = await store.create_connector(index_name="", service_type="dir", name=name)
    finally:
        await client.close()
    proxy = Proxy(es_config["host"])
    await proxy.restore()
    settings = {**es_config, "host": proxy.url}
    app = MonitorApp(settings, refresh_seconds=INTERVAL)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            table = app.screen.query_one("#connectors")
            await wait_for(pilot, lambda: connector.id in [k.value for k in table.rows])
            assert not banner(app).shown and not dimmed(app, connector.id)
            # stacked at 80 columns: the whole id under the name, never cut
            assert table.row_lines(connector.id)[0].split("\n")[-1] == connector.id

            await proxy.cut()
            await wait_for(pilot, lambda: banner(app).shown, WITHIN_ONE_REFRESH, "the banner")
            text = text_of(banner(app))
            assert f"Cannot reach Elasticsearch at {proxy.url}: " in text
            assert "last good read " in text and "retrying every 1s" in text
            assert app.screen.stale and dimmed(app, connector.id)
            assert connector.id in [k.value for k in table.rows]  # the last good read stays
            assert "STALE" in text_of(app.screen.query_one("#monitor-info"))

            await proxy.restore()
            await wait_for(pilot, lambda: not banner(app).shown, 3 * INTERVAL, "recovery")
            assert not app.screen.stale and not dimmed(app, connector.id)
            assert "STALE" not in text_of(app.screen.query_one("#monitor-info"))
    finally:
        await proxy.cut()


async def test_escape_closes_the_keys_panel_of_the_monitor():
    app = MonitorApp({"host": f"http://127.0.0.1:{free_port()}"}, refresh_seconds=INTERVAL)
    async with app.run_test(size=(80, 24)) as pilot:
        app.action_show_help_panel()
        await pilot.pause()
        assert app.screen.query(HelpPanel)
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.query(HelpPanel)
        await pilot.press("escape")  # no panel: Escape does nothing, the monitor stays
        await pilot.pause()
        assert app.is_running and app.screen.id != "_default"


async def test_escape_closes_the_keys_panel_of_the_wizard(tmp_path):
    app = SluiceApp(config_path=str(tmp_path / "config.yml"), test_mode=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        app.action_show_help_panel()
        await pilot.pause()
        assert screen.query(HelpPanel)
        await pilot.press("escape")
        await pilot.pause()
        assert not screen.query(HelpPanel)
        assert app.screen is screen


@pytest.mark.es
async def test_job_history_tells_two_instances_on_one_host_apart(es_config, unique):
    """Both jobs have the same `worker_hostname`; the Worker column shows which process
    (recorded by the claim in `metadata.sluice.worker`) ran each."""
    from sluice.core.protocol import WorkerIdentity
    from sluice.tui.screens.monitor import JobHistoryScreen

    client = build_client(es_config)
    store = await open_store(client)
    connector = await store.create_connector(
        index_name=f"search-sluice-test-hist-{unique}", service_type="dir", name=f"hist {unique}"
    )
    try:
        for pid in (1111, 2222):
            job_id = await store.create_job(connector.id)
            worker = WorkerIdentity("shared-host", pid, f"{pid:012d}", "2026-01-01T00:00:00.000Z")
            assert await store.claim_job(job_id, "shared-host", worker=worker)
            await store.complete_job(job_id)
        app = MonitorApp(es_config, refresh_seconds=INTERVAL, test_mode=True)
        async with app.run_test(size=(140, 30)) as pilot:
            table = app.screen.query_one("#connectors")
            await wait_for(pilot, lambda: connector.id in [k.value for k in table.rows])
            table.move_cursor(row=table.get_row_index(connector.id))
            await pilot.press("j")
            await wait_for(pilot, lambda: isinstance(app.screen, JobHistoryScreen), what="jobs")
            jobs = app.screen.query_one("#jobs")
            await wait_for(pilot, lambda: jobs.row_count == 2, what="two jobs listed")
            workers = sorted(str(jobs.get_row_at(row)[7]) for row in range(2))
            assert workers == ["shared-host (pid 1111)", "shared-host (pid 2222)"]
    finally:
        await remove_records(client, connector.id)
        await client.close()


async def test_w_explains_why_a_connector_and_its_job_are_stuck(es_config, unique):
    """A pending job no service claims, and a connector no service checked in for: `w` on
    the monitor explains the connector, `w` in its job history the job, at 80x24."""
    from sluice.tui.screens.explain import ExplainScreen
    from sluice.tui.screens.monitor import JobHistoryScreen

    client = build_client(es_config)
    store = await open_store(client)
    connector = await store.create_connector(
        index_name=f"search-sluice-test-why-{unique}", service_type="dir", name=f"why {unique}"
    )
    try:
        job_id = await store.create_job(connector.id)
        app = MonitorApp(es_config, refresh_seconds=INTERVAL, test_mode=True)
        async with app.run_test(size=(80, 24)) as pilot:
            table = app.screen.query_one("#connectors")
            await wait_for(pilot, lambda: connector.id in [k.value for k in table.rows])
            table.move_cursor(row=table.get_row_index(connector.id))
            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, ExplainScreen), what="explain")
            screen = app.screen
            await wait_for(pilot, lambda: screen.result is not None, what="the explanation")
            findings = " ".join(text_of(w) for w in screen.query(".finding"))
            assert f"No service runs connector {connector.id}" in findings
            assert "sluice run" in findings and "Fix:" in findings
            await pilot.press("escape")
            await pilot.press("j")
            await wait_for(pilot, lambda: isinstance(app.screen, JobHistoryScreen), what="jobs")
            jobs = app.screen.query_one("#jobs")
            await wait_for(pilot, lambda: jobs.row_count == 1, what="the job")
            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, ExplainScreen), what="explain")
            screen = app.screen
            await wait_for(pilot, lambda: screen.result is not None, what="the explanation")
            assert screen.result.job_id == job_id
            assert job_id in text_of(screen.query_one("#explain-summary"))
    finally:
        await remove_records(client, connector.id)
        await client.close()
