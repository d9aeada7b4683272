"""Several OS processes ("machines") on the same connectors: every job runs exactly once, and
an instance killed mid-job leaves nothing blocked once cleanup has run."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from sluice.core.protocol import JobStatus, cleanup_stale_jobs

pytestmark = [pytest.mark.es, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


def start_worker(harness, ids, hostname, log, *, start_at=0.0, hang=False):
    args = [
        sys.executable,
        "-m",
        "tests.core.protocol.worker",
        "--backend",
        "index" if harness.backend == "index" else "api",
        "--prefix",
        harness.names.prefix,
        f"--connectors={','.join(ids)}",  # "=": ids may start with "-"
        "--hostname",
        hostname,
        "--log",
        str(log),
        "--start-at",
        str(start_at),
    ]
    if hang:
        args.append("--hang")
    env = {**os.environ, "SLUICE_TEST_ES_SETTINGS": json.dumps(harness.settings)}
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def log_lines(path: Path, verb: str) -> list[str]:
    if not path.exists():
        return []
    return [line.split()[1] for line in path.read_text().splitlines() if line.startswith(verb)]


async def configured(harness):
    connector = await harness.connector()
    await harness.store.update_configuration(
        connector.id, schema={"a": {"label": "A", "value": "x"}}
    )
    return connector


async def test_two_processes_run_twenty_jobs_exactly_once(harness, tmp_path):
    connectors = [await configured(harness) for _ in range(4)]
    ids = [c.id for c in connectors]
    job_ids = [await harness.store.create_job(ids[n % 4]) for n in range(20)]

    start_at = time.time() + 2.0  # both start polling at the same moment
    logs = {name: tmp_path / f"{name}.log" for name in ("host-A", "host-B")}
    procs = {
        name: start_worker(harness, ids, name, log, start_at=start_at) for name, log in logs.items()
    }
    for name, proc in procs.items():
        _, err = await asyncio.to_thread(proc.communicate, timeout=240)
        assert proc.returncode == 0, f"{name} failed:\n{err}"

    claimed = {name: log_lines(log, "claimed") for name, log in logs.items()}
    everything = claimed["host-A"] + claimed["host-B"]
    assert Counter(everything) == Counter(job_ids), "each job claimed exactly once"
    completed = log_lines(logs["host-A"], "completed") + log_lines(logs["host-B"], "completed")
    assert sorted(completed) == sorted(job_ids)
    for name, jobs in claimed.items():
        for job_id in jobs:
            job = await harness.store.get_job(job_id)
            assert job.status is JobStatus.COMPLETED
            assert job.worker_hostname == name
    for connector_id in ids:
        connector = await harness.store.get_connector(connector_id)
        assert connector.last_sync_status is JobStatus.COMPLETED
    print(
        f"\n[{harness.backend}] jobs per instance: "
        f"A={len(claimed['host-A'])} B={len(claimed['host-B'])}"
    )


async def test_killed_instance_is_cleaned_up_and_connector_unblocked(harness, tmp_path):
    connector = await configured(harness)
    job_id = await harness.store.create_job(connector.id)
    log = tmp_path / "victim.log"
    proc = start_worker(harness, [connector.id], "victim", log, hang=True)
    try:
        deadline = time.monotonic() + 60
        while job_id not in log_lines(log, "claimed"):
            assert time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "no claim"
            await asyncio.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()

    # the connector is blocked while the dead instance's job looks alive
    second = await harness.store.create_job(connector.id)
    assert not await harness.store.claim_job(second, "survivor")
    fresh = await cleanup_stale_jobs(
        harness.store, connector_ids=[connector.id], stale_after=timedelta(minutes=5)
    )
    assert fresh == []  # heartbeats are recent: not stale yet

    stale_after = timedelta(seconds=2)
    await asyncio.sleep(stale_after.total_seconds() + 0.5)
    failed = await cleanup_stale_jobs(
        harness.store, connector_ids=[connector.id], stale_after=stale_after
    )
    assert failed == [job_id]
    dead = await harness.store.get_job(job_id)
    assert dead.status is JobStatus.ERROR
    assert "stopped sending heartbeats" in dead.error
    assert f"on worker victim (pid {proc.pid})" in dead.error  # which instance died
    unblocked = await harness.store.get_connector(connector.id)
    assert unblocked.last_sync_status is JobStatus.ERROR

    assert await harness.store.claim_job(second, "survivor")
    await harness.store.complete_job(second)
    assert (await harness.store.get_connector(connector.id)).last_sync_status is JobStatus.COMPLETED


async def test_two_instances_on_one_host_are_told_apart(harness, tmp_path):
    """Same host name (Elastic's `worker_hostname` is equal), two processes: every job
    records which one ran it (`metadata.sluice.worker`)."""
    connectors = [await configured(harness) for _ in range(2)]
    ids = [c.id for c in connectors]
    job_ids = [await harness.store.create_job(ids[n % 2]) for n in range(8)]
    start_at = time.time() + 2.0
    logs = {name: tmp_path / f"{name}.log" for name in ("first", "second")}
    procs = {
        name: start_worker(harness, ids, "shared-host", log, start_at=start_at)
        for name, log in logs.items()
    }
    for name, proc in procs.items():
        _, err = await asyncio.to_thread(proc.communicate, timeout=240)
        assert proc.returncode == 0, f"{name} failed:\n{err}"

    seen = {}
    for name, log in logs.items():
        for job_id in log_lines(log, "claimed"):
            job = await harness.store.get_job(job_id)
            assert job.worker_hostname == "shared-host"
            assert job.worker.pid == procs[name].pid, (name, job.worker)
            assert job.worker_label == f"shared-host (pid {procs[name].pid})"
            seen[job_id] = job.worker.instance_id
    assert sorted(seen) == sorted(job_ids)
    assert len(set(seen.values())) == len(
        {n for n, log in logs.items() if log_lines(log, "claimed")}
    )
