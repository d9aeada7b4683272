"""The local sandbox: a stable port, one server per home (adopted, never started twice), stale
locks cleaned up, and an app's sandbox dying with the app. Real noida-db, on free ports only
(never the shared test server's)."""

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

from sluice.core.sandbox import (
    SandboxError,
    clear_stale_lock,
    configured_port,
    find_sandbox,
    free_port,
    release_sandbox,
    sandbox_available,
    sandbox_down,
    sandbox_home,
    start_sandbox,
    stop_home,
    stop_sandbox,
)

pytestmark = pytest.mark.skipif(not sandbox_available(), reason="sandbox extra not installed")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def port(monkeypatch) -> int:
    """This test's default sandbox port: a free one, never the stable 19200 or the test server."""
    chosen = free_port()
    monkeypatch.setenv("SLUICE_SANDBOX_PORT", str(chosen))
    return chosen


@pytest.fixture
def home(tmp_path):
    path = tmp_path / ".sluice" / "sandbox"
    yield path
    stop_home(path)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        threads = len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return False
    return state not in ("Z", "X") or threads > 1  # a zombie leader while threads still exit


def wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_sandbox_starts_indexes_and_stops(home, port):
    sandbox = start_sandbox(home)
    try:
        assert sandbox.url == f"http://127.0.0.1:{port}"
        info = httpx.get(sandbox.url, timeout=5).json()
        assert info["version"]["number"].startswith("8.")
        resp = httpx.put(f"{sandbox.url}/sandbox-probe/_doc/1?refresh=true", json={"a": 1})
        assert resp.status_code in (200, 201)
        lock = json.loads((home / "sandbox.pid").read_text())
        assert lock["pid"] == sandbox.pid and lock["port"] == port
    finally:
        stop_sandbox(sandbox)
    assert not sandbox.running
    assert not (home / "sandbox.pid").exists()
    assert (home / "server.log").exists()


def test_port_is_stable_and_data_survives_a_restart(home, port, monkeypatch):
    first = start_sandbox(home)
    httpx.put(f"{first.url}/kept/_doc/1?refresh=true", json={"a": 1}).raise_for_status()
    stop_sandbox(first)
    monkeypatch.delenv("SLUICE_SANDBOX_PORT")  # the saved port wins over the default
    assert configured_port(home) == port
    second = start_sandbox(home)
    assert second.port == port
    assert httpx.get(f"{second.url}/kept/_doc/1", timeout=5).json()["found"] is True


def test_home_sits_next_to_config_yml(tmp_path):
    assert sandbox_home(tmp_path / "config.yml") == tmp_path.resolve() / ".sluice" / "sandbox"


def test_a_second_start_adopts_the_running_one(home):
    first = start_sandbox(home)
    second = start_sandbox(home)
    assert second.pid == first.pid and second.adopted and second.owned
    assert httpx.get(f"{second.url}/_cluster/health", timeout=5).status_code == 200


def test_killed_server_leaves_a_stale_lock_that_is_cleaned_and_start_works(home):
    first = start_sandbox(home, keep_running=True)
    os.kill(first.pid, signal.SIGKILL)
    assert wait_gone(first.pid)
    assert (home / "sandbox.pid").exists()
    assert clear_stale_lock(home) == first.pid
    assert not (home / "sandbox.pid").exists()
    assert find_sandbox(home) is None
    again = start_sandbox(home)  # noida-db's own control file from the killed one is stale too
    assert again.pid != first.pid and again.running


def test_lock_naming_another_program_is_stale(home):
    home.mkdir(parents=True)
    (home / "sandbox.pid").write_text(json.dumps({"pid": os.getpid(), "port": 1}))
    assert find_sandbox(home) is None  # pytest is alive, but it is not this home's noida-db
    assert not (home / "sandbox.pid").exists()


def test_server_left_running_without_a_lock_is_adopted_not_an_error(home):
    """Issue 11 item 5: the app died, its sandbox kept the data folder; the next start must
    use that server rather than fail with 'noida-db is already running'."""
    leftover = start_sandbox(home, keep_running=True)
    (home / "sandbox.pid").unlink()
    again = start_sandbox(home)
    assert again.pid == leftover.pid and again.adopted
    assert again.owned  # an orphan is taken over: this process stops it when it exits
    release_sandbox(again)
    assert wait_gone(leftover.pid)


def test_orphan_of_a_dead_app_is_taken_over_and_released(home):
    orphan = start_sandbox(home, keep_running=True)
    lock = json.loads((home / "sandbox.pid").read_text())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **TEXT)
    lock["owner"] = int(dead.stdout)
    (home / "sandbox.pid").write_text(json.dumps(lock))
    assert find_sandbox(home).orphaned
    taken = start_sandbox(home)
    assert taken.pid == orphan.pid and taken.owned
    assert json.loads((home / "sandbox.pid").read_text())["owner"] == os.getpid()
    release_sandbox(taken)
    assert wait_gone(orphan.pid)


def test_release_leaves_a_kept_running_sandbox_alone(home):
    kept = start_sandbox(home, keep_running=True)
    used = start_sandbox(home)  # e.g. the app's "try it on this machine"
    assert used.pid == kept.pid and not used.owned
    release_sandbox(used)
    assert alive(kept.pid)
    assert httpx.get(f"{kept.url}/_cluster/health", timeout=5).status_code == 200


def test_port_taken_by_another_program_is_a_clear_error(home, port):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(
            SandboxError, match=rf"Port {port} is in use by another program.*--port"
        ):
            start_sandbox(home)
        moved = start_sandbox(home, any_port_if_taken=True)  # what the app does
    assert moved.port != port
    assert configured_port(home) == moved.port  # saved: later runs keep it


def test_port_held_by_another_folders_sandbox_names_that_folder(home, tmp_path, port):
    other = start_sandbox(tmp_path / "elsewhere")
    try:
        assert other.port == port
        with pytest.raises(SandboxError, match="another sandbox") as caught:
            start_sandbox(home)
        assert str(other.data_path) in str(caught.value)
    finally:
        stop_sandbox(other)


TEXT = {"capture_output": True, "text": True, "timeout": 60}

APP = """
import sys, threading, time
from sluice.core.sandbox import start_sandbox
box = {}
worker = threading.Thread(target=lambda: box.update(sb=start_sandbox(sys.argv[1])))
worker.start(); worker.join()  # like the TUI: started from a short-lived worker thread
print(box["sb"].pid, flush=True)
time.sleep(120)
"""


def test_app_sandbox_dies_with_the_app_even_on_kill_9(home):
    app = subprocess.Popen(
        [sys.executable, "-c", APP, str(home)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        pid = int(app.stdout.readline())
        time.sleep(0.5)
        assert alive(pid)  # the worker thread ended, the sandbox did not
        app.kill()
        app.wait(timeout=10)
        assert wait_gone(pid), "the sandbox outlived its app"
    finally:
        app.kill()
        app.stdout.close()


def test_kept_running_sandbox_is_in_its_own_session(home):
    kept = start_sandbox(home, keep_running=True)
    session = int(Path(f"/proc/{kept.pid}/stat").read_text().rsplit(")", 1)[1].split()[3])
    assert session == kept.pid


def test_sandbox_down_is_quick_and_only_for_the_sandbox_address(home, port):
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    assert sandbox_down(url, home)
    assert time.monotonic() - started < 2
    assert not sandbox_down("http://127.0.0.1:9", home)  # not the sandbox's port
    assert not sandbox_down(f"https://example.invalid:{port}", home)
    start_sandbox(home)
    assert not sandbox_down(url, home)


def test_missing_binary_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("sluice.core.sandbox.sandbox_binary", lambda: None)
    with pytest.raises(SandboxError, match="sluice\\[sandbox\\]"):
        start_sandbox(tmp_path)


def test_bad_port_variable_is_a_clear_error(home, monkeypatch):
    monkeypatch.setenv("SLUICE_SANDBOX_PORT", "nineteen")
    with pytest.raises(SandboxError, match="SLUICE_SANDBOX_PORT='nineteen' is not a port"):
        start_sandbox(home)
