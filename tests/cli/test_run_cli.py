"""`sluice run` as real processes against the real server: jobs run once, even with two
services; SIGTERM suspends the running job and the next start resumes it."""

from __future__ import annotations

import os
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


def start_service(env: CliEnv, log: Path) -> subprocess.Popen[bytes]:
    handle = open(log, "wb")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        [sys.executable, "-m", "sluice", "run", "-c", str(env.config), "--skip-checks"],
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


def test_run_refuses_a_config_without_connectors(cli_env):
    code, _out, err = cli_env.run("run")
    assert code == 2
    assert "no connector is configured" in err
