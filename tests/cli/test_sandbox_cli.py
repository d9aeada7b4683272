"""`sluice sandbox start|stop|status` with the real noida-db, run as the user runs it (a
separate process per command), on a free port; and the quick hint when config.yml points at a
sandbox that is down."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sluice.core.sandbox import free_port, sandbox_available, start_sandbox, stop_home
from tests.cli.connector_fixtures import one_line

pytestmark = pytest.mark.skipif(not sandbox_available(), reason="sandbox extra not installed")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A project folder with its own sandbox port; whatever sandbox it ran is stopped after."""
    monkeypatch.setenv("SLUICE_SANDBOX_PORT", str(free_port()))
    yield tmp_path
    stop_home(tmp_path / ".sluice" / "sandbox")


def sluice(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "sluice", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def status(folder: Path) -> tuple[int, dict]:
    result = sluice(folder, "sandbox", "status", "--json")
    return result.returncode, json.loads(result.stdout)


def gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            threads = len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            return True
        if state in ("Z", "X") and threads <= 1:  # a zombie whose threads have all exited
            return True
        time.sleep(0.05)
    return False


def test_start_status_reuse_kill_and_stop(folder):
    port = int(os.environ["SLUICE_SANDBOX_PORT"])
    started = sluice(folder, "sandbox", "start")
    assert started.returncode == 0, started.stderr
    assert f"http://127.0.0.1:{port}" in started.stdout and "NOT FOR PRODUCTION" in started.stdout
    assert "`elasticsearch.feature_use_connectors_api: false`" in started.stdout

    # the command has exited; the server lives on, in its own session, and answers
    code, facts = status(folder)
    assert code == 0 and facts["running"] and facts["answers"] and facts["kept_running"]
    pid = facts["pid"]
    assert int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3]) == pid
    assert httpx.get(f"{facts['url']}/_cluster/health", timeout=5).status_code == 200
    assert str(folder / ".sluice" / "sandbox" / "data") == facts["data_dir"]

    again = sluice(folder, "sandbox", "start", "--json")
    assert again.returncode == 0, again.stderr
    reused = json.loads(again.stdout)
    assert reused["reused"] is True and reused["pid"] == pid

    os.kill(pid, signal.SIGKILL)
    assert gone(pid)
    text = sluice(folder, "sandbox", "status")
    assert text.returncode == 3
    assert "not running" in text.stdout and "sandbox start" in text.stdout
    assert f"stale sandbox lock (pid {pid}" in text.stderr
    assert not (folder / ".sluice" / "sandbox" / "sandbox.pid").exists()

    restarted = sluice(folder, "sandbox", "start", "--json")
    assert restarted.returncode == 0, restarted.stderr
    new = json.loads(restarted.stdout)
    assert new["port"] == port and new["pid"] != pid and not new["reused"]

    stopped = sluice(folder, "sandbox", "stop")
    assert stopped.returncode == 0 and f"stopped (pid {new['pid']})" in stopped.stdout
    assert gone(new["pid"])
    assert status(folder)[0] == 3
    assert "not running" in sluice(folder, "sandbox", "stop").stdout


def test_command_against_a_stopped_sandbox_says_so_at_once(folder):
    port = int(os.environ["SLUICE_SANDBOX_PORT"])
    (folder / "config.yml").write_text(f"elasticsearch:\n  host: http://127.0.0.1:{port}\n")
    began = time.monotonic()
    result = sluice(folder, "connector", "list")
    elapsed = time.monotonic() - began
    assert result.returncode == 1
    assert one_line(result.stderr), result.stderr
    assert "the local sandbox is not running; start it with" in result.stderr
    assert "sandbox start" in result.stderr and "try it on this machine" in result.stderr
    assert elapsed < 5, f"took {elapsed:.1f} s (retries against a closed port?)"


def test_port_taken_by_another_program_names_it(folder):
    port = int(os.environ["SLUICE_SANDBOX_PORT"])
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        result = sluice(folder, "sandbox", "start")
    assert result.returncode == 1
    assert one_line(result.stderr)
    assert f"Port {port} is in use by another program" in result.stderr
    assert "--port N" in result.stderr


def test_start_port_option(folder):
    port = free_port()
    result = sluice(folder, "sandbox", "start", "--port", str(port), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["url"] == f"http://127.0.0.1:{port}"
    # saved: the next start without --port (and the hint check) use it
    assert status(folder)[1]["port"] == port
    bad = sluice(folder, "sandbox", "start", "--port", "99999")
    assert bad.returncode == 2 and "--port must be a number from 1 to 65535" in bad.stderr


def test_start_will_not_claim_an_apps_sandbox(folder):
    """A sandbox owned by a running app (here: this test process) stops with it; `start`
    says so instead of promising it keeps running."""
    owned = start_sandbox(folder / ".sluice" / "sandbox")
    result = sluice(folder, "sandbox", "start")
    assert result.returncode == 1
    assert f"belongs to the Sluice app (pid {os.getpid()})" in result.stderr
    code, facts = status(folder)
    assert code == 0 and facts["pid"] == owned.pid and facts["app_pid"] == os.getpid()
    assert not facts["kept_running"]
