"""`sluice run` as real processes against the real server: jobs run once, even with two
services; SIGTERM suspends the running job and the next start resumes it."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.connector_fixtures import CliEnv, cli_environment
from tests.conftest import ROOT

pytestmark = pytest.mark.es


@pytest.fixture
def cli_env(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> Iterator[CliEnv]:
    monkeypatch.setenv("SLUICE_STATE_DIR", str(tmp_path / "state"))
    yield from cli_environment(tmp_path, capsys)


def make_folder(path: Path, count: int) -> Path:
    path.mkdir(parents=True)
    for n in range(count):
        (path / f"f{n}.txt").write_text(f"file {n}\n")
    return path


def write_service_config(env: CliEnv, connector_ids: list[str]) -> None:
    data = yaml.safe_load(env.config.read_text())
    data["connectors"] = [{"connector_id": c, "service_type": "dir"} for c in connector_ids]
    data["service"] = {"idling": 1, "heartbeat": 5, "job_cleanup_interval": 5}
    env.config.write_text(yaml.safe_dump(data))


def start_service(env: CliEnv, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    handle = open(log, "wb")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        [sys.executable, "-m", "sluice", "run", "-c", str(env.config), "--skip-checks", *extra],
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env=os.environ.copy(),
    )


def job_status(env: CliEnv, job_id: str) -> str:
    async def get(client: Any) -> str:
        resp = await client.options(headers={"X-elastic-product-origin": "connectors"}).get(
            index=".elastic-connectors-sync-jobs", id=job_id
        )
        return resp["_source"]["status"]

    return env.es(get)


def queue_job(env: CliEnv, connector_id: str) -> str:
    code, out, err = env.run("job", "start", connector_id)
    assert code == 0, err
    return out.strip().splitlines()[-1]


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


def test_two_services_never_run_the_same_job_twice(cli_env, tmp_path):
    connectors = [
        cli_env.create("--set", f"directory={make_folder(tmp_path / f'src{i}', 30)}")
        for i in range(3)
    ]
    write_service_config(cli_env, connectors)
    jobs = [queue_job(cli_env, c) for c in connectors for _ in range(2)]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    services = [start_service(cli_env, log) for log in logs]
    try:
        wait_until(
            lambda: all(job_status(cli_env, j) in ("completed", "error") for j in jobs),
            timeout=120,
            what="every job to finish",
        )
    finally:
        codes = [stop(p) for p in services]
    assert codes == [0, 0]
    text = "".join(log.read_text() for log in logs)
    assert "Traceback" not in text
    for job_id in jobs:
        assert job_status(cli_env, job_id) == "completed"
        runs = re.findall(rf"job {re.escape(job_id)} \(", text)
        assert len(runs) == 1, f"job {job_id} ran {len(runs)} times:\n{text}"


def test_sigterm_suspends_the_running_job_and_a_restart_resumes_it(cli_env, tmp_path):
    connector_id = cli_env.create("--set", f"directory={make_folder(tmp_path / 'big', 20000)}")
    write_service_config(cli_env, [connector_id])
    job_id = queue_job(cli_env, connector_id)
    log = tmp_path / "service.log"
    service = start_service(cli_env, log)
    try:
        wait_until(lambda: job_status(cli_env, job_id) == "in_progress", 60, "the job to start")
        time.sleep(0.5)
    finally:
        code = stop(service)
    assert code == 0, log.read_text()
    assert job_status(cli_env, job_id) == "suspended", log.read_text()
    assert "suspending 1 running job" in log.read_text()

    service = start_service(cli_env, tmp_path / "again.log")
    try:
        wait_until(lambda: job_status(cli_env, job_id) == "completed", 120, "the job to resume")
    finally:
        stop(service)


def test_run_v_logs_at_debug_and_log_level_wins_over_it(cli_env, tmp_path):
    connector_id = cli_env.create("--set", f"directory={make_folder(tmp_path / 'few', 3)}")
    write_service_config(cli_env, [connector_id])
    job_id = queue_job(cli_env, connector_id)
    for extra, debug in ((("-v",), True), (("-v", "--log-level", "INFO"), False)):
        log = tmp_path / f"service-{len(extra)}.log"
        service = start_service(cli_env, log, *extra)
        try:
            wait_until(lambda: job_status(cli_env, job_id) == "completed", 60, "the job")
            time.sleep(0.5)
        finally:
            stop(service)
        assert (" DEBUG " in log.read_text()) is debug, log.read_text()


def test_run_refuses_a_config_without_connectors(cli_env):
    code, _out, err = cli_env.run("run")
    assert code == 2
    assert "no connector is configured" in err


def job_source(env: CliEnv, job_id: str) -> dict[str, Any]:
    async def get(client: Any) -> dict[str, Any]:
        resp = await client.options(headers={"X-elastic-product-origin": "connectors"}).get(
            index=".elastic-connectors-sync-jobs", id=job_id
        )
        return dict(resp["_source"])

    return env.es(get)


def indexed_files(env: CliEnv, index: str) -> list[tuple[str, str]]:
    """(relative path, body) of every document of `index`."""

    async def get(client: Any) -> list[tuple[str, str]]:
        await client.indices.refresh(index=index)
        paths: list[tuple[str, str]] = []
        response = await client.search(
            index=index,
            size=10000,
            source=["relative_path", "body"],
            scroll="1m",
            sort=["_doc"],
        )
        while hits := response["hits"]["hits"]:
            paths += [(h["_source"]["relative_path"], h["_source"].get("body")) for h in hits]
            response = await client.scroll(scroll_id=response["_scroll_id"], scroll="1m")
        return paths

    return env.es(get)


def test_a_service_killed_mid_job_is_resumed_at_once_from_its_checkpoint(cli_env, tmp_path):
    """kill -9 at a random moment after the first checkpoint reached the job record: the
    next start recognises its dead predecessor's job (same host, process gone), resumes it
    from the checkpoint without waiting for stale-job cleanup, and the index ends holding
    every file exactly once."""
    count = 80000
    folder = make_folder(tmp_path / "big", count)
    connector_id = cli_env.create("--set", f"directory={folder}")
    write_service_config(cli_env, [connector_id])
    job_id = queue_job(cli_env, connector_id)
    service = start_service(cli_env, tmp_path / "victim.log")
    try:
        wait_until(
            lambda: ((job_source(cli_env, job_id).get("metadata") or {}).get("sluice") or {}).get(
                "checkpoint"
            ),
            90,
            "a checkpoint in the job record",
        )
        time.sleep(random.uniform(0, 2))
        service.send_signal(signal.SIGKILL)
        service.wait(timeout=10)
    finally:
        if service.poll() is None:
            service.kill()
    killed = job_source(cli_env, job_id)
    assert killed["status"] == "in_progress"
    checkpoint = killed["metadata"]["sluice"]["checkpoint"]
    ledger = Path(os.environ["SLUICE_STATE_DIR"]) / "jobs" / job_id / "ledger"
    assert ledger.exists()  # left by the kill

    log = tmp_path / "again.log"
    started = time.monotonic()
    service = start_service(cli_env, log)
    try:
        wait_until(lambda: job_status(cli_env, job_id) == "completed", 120, "the job to resume")
    finally:
        stop(service)
    text = log.read_text()
    assert "left running by a killed instance on this host" in text, text
    assert "Traceback" not in text
    done = job_source(cli_env, job_id)
    assert done["metadata"]["sluice"]["resumed_after"] >= checkpoint["items"] > 0
    files = indexed_files(cli_env, done["connector"]["index_name"])
    assert len(files) == count  # each file exactly once, its document as the file says
    assert sorted(files) == sorted((f"f{n}.txt", f"file {n}") for n in range(count))
    assert not ledger.exists()
    print(
        f"\nresumed after {done['metadata']['sluice']['resumed_after']} of {count} files, "
        f"completed {time.monotonic() - started:.1f} s after the restart"
    )
