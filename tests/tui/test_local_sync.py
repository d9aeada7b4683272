"""A sync run from the wizard with the engine in a thread worker: counters move, documents
land in the index, cancel (with confirmation) stops it, and SIGTERM suspends it."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest
from textual.widgets import ProgressBar

from sluice.core.es import build_client
from sluice.core.protocol import JobStatus, open_store
from sluice.core.workflows.job_progress import snapshot_from_job
from sluice.core.workflows.local_sync import LocalSync
from sluice.sources.directory.source import DirectorySource
from sluice.sources.registry import create_source
from sluice.tui.app import SluiceApp
from sluice.tui.screens.dashboard import DashboardScreen
from sluice.tui.screens.modals import ConfirmScreen
from tests.data import documents
from tests.tui.conftest import SIZE, text_of, wait_for, wizard
from tests.tui.test_dashboard_monitor import review_state, syncable_connector

pytestmark = pytest.mark.es


def many_files(folder, count: int):
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"note-{n:05d}.txt").write_text(f"note number {n}\n" * 20)
    return folder


async def start_local_sync(pilot, app):
    await wait_for(pilot, lambda: wizard(app).shown_step == 6, what="review step")
    screen = wizard(app)
    button = screen.query_one("#start-sync")
    # the step's own checks (an interrupted job to resume?) run after it is shown
    await wait_for(
        pilot,
        lambda: not button.disabled and screen.step.blocker() is None,
        what="start sync ready",
    )
    # what the step's key (ctrl+s) and button do; a key can be lost while the step settles,
    # and these tests are about the sync, not the key (the wizard-flow tests press it)
    screen.step.start_sync()
    await wait_for(
        pilot, lambda: isinstance(app.screen, DashboardScreen), timeout=60, what="dashboard"
    )
    return app.screen


async def last_job(es_config, connector_id):
    client = build_client(es_config)
    try:
        store = await open_store(client)
        jobs = await store.list_jobs(connector_id=connector_id, size=1)
        return jobs[0] if jobs else None
    finally:
        await client.close()


async def test_start_sync_indexes_the_folder(
    tmp_path, es_config, es, docs_dir, unique, cleanup_indices
):
    index = f"search-sluice-test-sync-{unique}"
    cleanup_indices.append(index)
    # a PDF: its text comes from the extraction worker processes, started inside the app
    documents.make_pdf(docs_dir / "report.pdf", ["gauge station report"])
    connector_id = await syncable_connector(es_config, f"sync {unique}", index, str(docs_dir))
    app = SluiceApp(review_state(tmp_path, es_config, connector_id, index), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: wizard(app).shown_step == 6, what="review step")
        rows = dict(wizard(app).step.query_one("#summary").rows)
        assert rows["Secrets in"] == "none to store (no authentication)"
        dashboard = await start_local_sync(pilot, app)
        await wait_for(pilot, lambda: dashboard.feed.poll().finished, timeout=120, what="done")
        state = dashboard.feed.poll()
        assert state.status == "completed", state.last_error
        counters = state.snapshot.counters
        assert counters.indexed + counters.updated == 4 and counters.failed == 0
        # the dashboard redraws from its 4 Hz poll: give it that moment
        await wait_for(
            pilot,
            lambda: "COMPLETED" in text_of(dashboard.query_one("#dash-status")),
            what="the dashboard to show the outcome",
        )
        assert text_of(dashboard.query_one("#counter-indexed")).split()[-1] == "4"
    await es.indices.refresh(index=index)
    assert (await es.count(index=index))["count"] == 4
    hits = await es.search(index=index, query={"match": {"body": "gauge station report"}})
    assert hits["hits"]["hits"][0]["_source"]["name"] == "report.pdf"
    job = await last_job(es_config, connector_id)
    assert job.status == JobStatus.COMPLETED


async def test_cancel_asks_then_stops_the_sync(tmp_path, es_config, unique, cleanup_indices):
    index = f"search-sluice-test-cancel-{unique}"
    cleanup_indices.append(index)
    folder = many_files(tmp_path / "many", 20_000)  # slow enough to stop mid-way
    connector_id = await syncable_connector(es_config, f"cancel {unique}", index, str(folder))
    app = SluiceApp(review_state(tmp_path, es_config, connector_id, index), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        dashboard = await start_local_sync(pilot, app)
        await wait_for(
            pilot,
            lambda: dashboard.feed.poll().snapshot.counters.extracted > 0,
            timeout=60,
            what="counters moving",
        )
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: dashboard.feed.poll().finished, timeout=60, what="stopped")
        state = dashboard.feed.poll()
        assert state.status == "canceled"
        await wait_for(
            pilot,
            lambda: "CANCELED" in text_of(dashboard.query_one("#dash-status")),
            what="the dashboard to show CANCELED",
        )
        # the bar stays where the sync stopped; the rate stops adding bars, and says average
        bar = dashboard.query_one("#dash-progress", ProgressBar)
        assert bar.percentage is None or bar.percentage < 1.0
        rates = list(dashboard._rates)
        await pilot.pause(DashboardScreen.RATE_SAMPLE_SECONDS * 2)
        assert dashboard._rates == rates
        assert "average" in text_of(dashboard.query_one("#counter-rate"))
    job = await last_job(es_config, connector_id)
    assert job.status == JobStatus.CANCELED


async def test_sigterm_suspends_the_running_sync(tmp_path, es_config, unique, cleanup_indices):
    index = f"search-sluice-test-sigterm-{unique}"
    cleanup_indices.append(index)
    folder = many_files(tmp_path / "many", 20_000)  # slow enough to stop mid-way
    connector_id = await syncable_connector(es_config, f"sigterm {unique}", index, str(folder))
    app = SluiceApp(review_state(tmp_path, es_config, connector_id, index), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        dashboard = await start_local_sync(pilot, app)
        await wait_for(
            pilot,
            lambda: dashboard.feed.poll().snapshot.counters.extracted > 0,
            timeout=60,
            what="counters moving",
        )
        os.kill(os.getpid(), signal.SIGTERM)
        await wait_for(pilot, lambda: dashboard.feed.poll().finished, timeout=60, what="suspended")
    job = await last_job(es_config, connector_id)
    assert job.status == JobStatus.SUSPENDED  # resumable, never left in_progress


async def test_failures_show_and_export_from_the_dashboard(
    tmp_path, es_config, docs_dir, unique, cleanup_indices, monkeypatch
):
    index = f"search-sluice-test-fail-{unique}"
    cleanup_indices.append(index)
    documents.make_corrupt_pdf(docs_dir / "broken.pdf")
    connector_id = await syncable_connector(es_config, f"fail {unique}", index, str(docs_dir))
    monkeypatch.chdir(tmp_path)
    app = SluiceApp(review_state(tmp_path, es_config, connector_id, index), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: wizard(app).shown_step == 6, what="review step")
        rows = dict(wizard(app).step.query_one("#summary").rows)
        assert rows["Secrets in"] == "none to store (no authentication)"
        dashboard = await start_local_sync(pilot, app)
        await wait_for(pilot, lambda: dashboard.feed.poll().finished, timeout=120, what="done")
        state = dashboard.feed.poll()
        assert state.status == "completed" and state.snapshot.counters.failed == 1
        # not shown as a clean success, and the failure names the file, not its hash
        await wait_for(
            pilot,
            lambda: "COMPLETED WITH 1 FAILED" in text_of(dashboard.query_one("#dash-status")),
            what="the dashboard to show the failure",
        )
        table = dashboard.query_one("#failures")
        assert str(table.get_row_at(0)[1]).endswith("broken.pdf")
        await pilot.press("e")
        await pilot.pause()
        exported = tmp_path / f"sluice-failures-{state.job_id}.csv"
        await wait_for(pilot, exported.exists, what="the exported file")
    rows = exported.read_text().splitlines()
    assert rows[0] == "time,id,name,operation,reason" and len(rows) == 2
    assert str(docs_dir / "broken.pdf") in rows[1]


async def test_a_missing_pipeline_is_shown_on_the_dashboard(
    tmp_path, es_config, docs_dir, unique, cleanup_indices
):
    """The sync goes on without the pipeline; the dashboard says so, for a sync run here
    and for a job read back from its record (as a service's job is)."""
    index = f"search-sluice-test-pipe-{unique}"
    cleanup_indices.append(index)
    connector_id = await syncable_connector(es_config, f"pipe {unique}", index, str(docs_dir))
    client = build_client(es_config)
    try:
        store = await open_store(client)
        await store.update_pipeline(connector_id, {"name": "sluice-test-no-pipeline"})
    finally:
        await client.close()
    app = SluiceApp(review_state(tmp_path, es_config, connector_id, index), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: wizard(app).shown_step == 6, what="review step")
        rows = dict(wizard(app).step.query_one("#summary").rows)
        assert rows["Secrets in"] == "none to store (no authentication)"
        dashboard = await start_local_sync(pilot, app)
        await wait_for(pilot, lambda: dashboard.feed.poll().finished, timeout=120, what="done")
        assert dashboard.feed.poll().status == "completed"
        notice = dashboard.query_one("#dash-notice")
        await wait_for(
            pilot,
            lambda: "sluice-test-no-pipeline" in text_of(notice),
            what="the dashboard to show the notice",
        )
        assert text_of(notice).startswith(
            "⚠ ingest pipeline 'sluice-test-no-pipeline' doesn't exist on this cluster: "
            "indexed without it"
        )
        assert notice.display
    job = await last_job(es_config, connector_id)
    assert snapshot_from_job(job).notices == (text_of(notice).removeprefix("⚠ "),)


async def _suspended_job(es_config, connector_id: str) -> str:
    """A job a closed terminal left behind: claimed, then suspended."""
    from sluice.core.protocol import JobType, TriggerMethod

    client = build_client(es_config)
    try:
        store = await open_store(client)
        job_id = await store.create_job(connector_id, JobType.FULL, TriggerMethod.ON_DEMAND)
        assert await store.claim_job(job_id, "closed-terminal")
        await store.suspend_job(job_id)
        return job_id
    finally:
        await client.close()


async def _job_statuses(es_config, connector_id: str) -> dict[str, str]:
    client = build_client(es_config)
    try:
        store = await open_store(client)
        jobs = await store.list_jobs(connector_id=connector_id)
        return {job.id: job.status.value for job in jobs}
    finally:
        await client.close()


@pytest.mark.parametrize("choice", ["resume", "full"])
async def test_review_offers_to_resume_the_suspended_job(
    tmp_path, es_config, docs_dir, unique, cleanup_indices, choice
):
    from textual.widgets import Select

    index = f"search-sluice-test-resume-{unique}"
    cleanup_indices.append(index)
    connector_id = await syncable_connector(es_config, f"resume {unique}", index, str(docs_dir))
    suspended = await _suspended_job(es_config, connector_id)
    app = SluiceApp(review_state(tmp_path, es_config, connector_id, index), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: wizard(app).shown_step == 6, what="review step")
        select = app.screen.query_one("#job-type", Select)
        await wait_for(pilot, lambda: select.value == "resume", what="the resume offer")
        status = text_of(app.screen.query_one("#review-status"))
        assert "was suspended" in status and suspended in status
        select.value = choice
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="dashboard")
        dashboard = app.screen
        await wait_for(pilot, lambda: dashboard.feed.poll().finished, timeout=60, what="done")
        assert dashboard.feed.poll().status == "completed"
        ran = dashboard.feed.poll().job_id
    statuses = await _job_statuses(es_config, connector_id)
    if choice == "resume":
        assert ran == suspended
        assert statuses == {suspended: "completed"}
    else:
        assert ran != suspended
        assert statuses == {suspended: "canceled", ran: "completed"}


def test_a_local_sync_uses_the_bulk_settings_of_config_yml(tmp_path):
    """The TUI's engine reads `elasticsearch.bulk` like `sluice run` and `sluice sync` do."""
    config = tmp_path / "config.yml"
    config.write_text(
        "elasticsearch.host: http://127.0.0.1:9200\n"
        "elasticsearch.bulk: {max_retries: 2, retry_interval: 3, chunk_size: 77}\n"
    )
    run = LocalSync({}, "c", source_factory=create_source, config_path=config)
    settings = run.engine_settings()
    assert (settings.bulk_max_retries, settings.bulk_retry_interval) == (2, 3.0)
    assert settings.chunk_size == 77
    defaults = LocalSync({}, "c", source_factory=create_source).engine_settings()
    assert defaults.bulk_max_retries == 5


class TaggedDirectory(DirectorySource):
    """What config.yml's `sources:` maps `dir` to in the test below: it counts its instances,
    proof that the TUI's local sync loads the class the map names."""

    instances = 0

    def __init__(self, configuration: Any) -> None:
        super().__init__(configuration)
        TaggedDirectory.instances += 1


async def test_a_local_sync_uses_the_sources_map_of_config_yml(
    tmp_path, es_config, docs_dir, unique, cleanup_indices
):
    """The TUI's engine loads config.yml's `sources:` classes like `sluice sync` does."""
    index = f"search-sluice-test-sources-map-{unique}"
    cleanup_indices.append(index)
    connector_id = await syncable_connector(
        es_config, f"sources map {unique}", index, str(docs_dir)
    )
    config = tmp_path / "config.yml"
    config.write_text(
        f"elasticsearch.host: {es_config['host']}\nsources:\n  dir: {__name__}:TaggedDirectory\n"
    )
    before = TaggedDirectory.instances
    run = LocalSync(es_config, connector_id, source_factory=create_source, config_path=config)
    await asyncio.to_thread(run.run)
    assert run.status == "completed", run.error
    assert TaggedDirectory.instances > before


async def test_the_deletion_guard_stops_and_the_dashboard_confirms(
    tmp_path, es_config, es, unique, cleanup_indices
):
    from sluice.core.engine.deletion_guard import MINIMUM_KEY
    from sluice.core.engine.runner import run_connector_sync

    index = f"search-sluice-test-guard-{unique}"
    cleanup_indices.append(index)
    folder = many_files(tmp_path / "share", 50)
    connector_id = await syncable_connector(es_config, f"guard {unique}", index, str(folder))
    client = build_client(es_config)
    try:
        store = await open_store(client)
        await store.update_configuration(connector_id, values={MINIMUM_KEY: 10})
    finally:
        await client.close()
    first = await run_connector_sync(es_config, connector_id, source_factory=create_source)
    assert first.counters.indexed == 50
    for n in range(30):  # 60 % of the folder vanished
        (folder / f"note-{n:05d}.txt").unlink()

    app = SluiceApp(review_state(tmp_path, es_config, connector_id, index), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        dashboard = await start_local_sync(pilot, app)
        await wait_for(pilot, lambda: dashboard.feed.poll().finished, timeout=60, what="done")
        check = dashboard.query_one("#dash-check")
        await wait_for(pilot, lambda: "Deletion guard" in text_of(check), what="guard line")
        assert "30 of 50 documents (60 %) would go; nothing was deleted" in text_of(check)
        await es.indices.refresh(index=index)
        assert (await es.count(index=index))["count"] == 50

        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, DashboardScreen) and app.screen is not dashboard,
            what="a new dashboard",
        )
        again = app.screen
        await wait_for(pilot, lambda: again.feed.poll().finished, timeout=60, what="done again")
        assert again.feed.poll().status == "completed"
        assert again.feed.poll().snapshot.counters.deleted == 30
        check = again.query_one("#dash-check")
        await wait_for(
            pilot,
            lambda: "Index check: source 20 · index 20 ✔" in text_of(check),
            what="the index check",
        )
    await es.indices.refresh(index=index)
    assert (await es.count(index=index))["count"] == 20


async def test_preview_on_review_is_a_dry_run_that_writes_nothing(
    tmp_path, es_config, es, unique, cleanup_indices
):
    from sluice.tui.screens.preview import PreviewScreen
    from tests.tui.conftest import press_button

    index = f"search-sluice-test-preview-{unique}"
    cleanup_indices.append(index)
    folder = many_files(tmp_path / "share", 150)
    connector_id = await syncable_connector(es_config, f"preview {unique}", index, str(folder))
    app = SluiceApp(review_state(tmp_path, es_config, connector_id, index), test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: wizard(app).shown_step == 6, what="review step")
        await press_button(pilot, "#preview")
        await wait_for(pilot, lambda: isinstance(app.screen, PreviewScreen), what="preview")
        preview = app.screen
        await wait_for(pilot, lambda: preview.report is not None, timeout=60, what="report")
        shown = text_of(preview.query_one("#preview-report"))
        assert "would write    100 (100 new, 0 updated)" in shown
        assert "unknown from a sample" not in shown  # a new index: nothing to delete
        assert "nothing written, no job recorded" in shown
        await pilot.press("a")
        await wait_for(
            pilot,
            lambda: preview.report is not None and preview.report.complete,
            timeout=60,
            what="the whole source",
        )
        assert preview.report.new == 150
        assert "would write    150 (150 new, 0 updated)" in text_of(
            preview.query_one("#preview-report")
        )
    assert not await es.indices.exists(index=index)
    assert await last_job(es_config, connector_id) is None
