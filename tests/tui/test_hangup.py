"""A terminal closed mid-sync (a dropped SSH session): the job is suspended, and the process,
its threads and its children are gone within seconds — tested in a real pseudo-terminal."""

from __future__ import annotations

import asyncio
import time

import pytest

from sluice.core.protocol import JobStatus
from tests.terminal import Terminal, alive, descendants
from tests.tui.test_dashboard_monitor import review_state, syncable_connector
from tests.tui.test_local_sync import last_job, many_files

pytestmark = pytest.mark.es

#: What "within a few seconds" means for the whole shutdown (suspend + record + exit).
EXIT_WITHIN = 15.0


async def wait_for_job(es_config, connector_id, predicate, timeout=60.0):
    until = time.monotonic() + timeout
    job = None
    while time.monotonic() < until:
        job = await last_job(es_config, connector_id)
        if job is not None and predicate(job):
            return job
        await asyncio.sleep(0.2)
    raise AssertionError(f"the job never reached the expected state: {job and job.status}")


@pytest.mark.parametrize("how", ["hangup", "sigterm"])
async def test_closed_terminal_mid_sync_suspends_and_ends_the_process(
    tmp_path, es_config, unique, cleanup_indices, how
):
    if es_config.get("api_key") or es_config.get("username"):
        pytest.skip("the review state here uses a cluster without authentication")
    index = f"search-sluice-test-hup-{unique}"
    cleanup_indices.append(index)
    folder = many_files(tmp_path / "many", 40_000)
    connector_id = await syncable_connector(es_config, f"hup {unique}", index, str(folder))
    config = review_state(tmp_path, es_config, connector_id, index)
    terminal = Terminal(["-c", config], cwd=tmp_path).start()
    try:
        # the header names the step once it is open (the step list shows its name at once)
        terminal.wait_for_text("Step 7 of 7", timeout=30)
        terminal.read(1.0)
        terminal.type("\x13")  # ctrl+s: Start sync
        terminal.wait_for_text("Sync dashboard", timeout=30)
        job = await wait_for_job(
            es_config, connector_id, lambda j: j.status == JobStatus.IN_PROGRESS
        )
        await asyncio.sleep(1.5)  # mid-sync: 40,000 files take several seconds
        family = {terminal.pid, *descendants(terminal.pid)}
        started = time.monotonic()
        if how == "hangup":
            terminal.hang_up()
        else:
            import os
            import signal

            os.kill(terminal.pid, signal.SIGTERM)
            terminal.read(0.5)
            terminal.hang_up()  # and then the terminal goes too, as with a logout
        status = await asyncio.get_running_loop().run_in_executor(
            None, terminal.wait_exit, EXIT_WITHIN
        )
        took = time.monotonic() - started
        assert status is not None, f"sluice still running {EXIT_WITHIN} s after {how}"
        print(f"{how}: process gone {took:.1f} s after the terminal closed")
        leftovers = [pid for pid in family if alive(pid)]
        deadline = time.monotonic() + 5
        while leftovers and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            leftovers = [pid for pid in family if alive(pid)]
        assert not leftovers, f"processes left behind: {leftovers}"
        job = await last_job(es_config, connector_id)
        assert job.status == JobStatus.SUSPENDED, job.status
    finally:
        terminal.kill()


async def test_closed_terminal_suspends_a_cli_sync(tmp_path, es_config, unique, cleanup_indices):
    """`sluice sync` in a terminal that closes: the job is suspended, the process ends."""
    if es_config.get("api_key") or es_config.get("username"):
        pytest.skip("this config has no credentials")
    index = f"search-sluice-test-hupcli-{unique}"
    cleanup_indices.append(index)
    folder = many_files(tmp_path / "many", 40_000)
    connector_id = await syncable_connector(es_config, f"hupcli {unique}", index, str(folder))
    (tmp_path / "config.yml").write_text(f"elasticsearch.host: {es_config['host']}\n")
    terminal = Terminal(["sync", connector_id], cwd=tmp_path).start()
    try:
        await wait_for_job(es_config, connector_id, lambda j: j.status == JobStatus.IN_PROGRESS)
        await asyncio.sleep(1.0)
        family = {terminal.pid, *descendants(terminal.pid)}
        terminal.hang_up()
        status = await asyncio.get_running_loop().run_in_executor(
            None, terminal.wait_exit, EXIT_WITHIN
        )
        assert status is not None, "sluice sync still running after its terminal closed"
        await asyncio.sleep(1.5)
        assert not [pid for pid in family if alive(pid)]
        job = await last_job(es_config, connector_id)
        assert job.status == JobStatus.SUSPENDED, job.status
    finally:
        terminal.kill()
