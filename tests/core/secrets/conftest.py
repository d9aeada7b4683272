"""A real Secret Service for the keyring tests: a private D-Bus session bus and
gnome-keyring-daemon on it, with a login collection unlocked by a throwaway password.

gnome-keyring creates and unlocks the `login` collection from the password given on stdin
with `--unlock`; an empty password creates nothing (and creating a collection through
secretstorage needs a GUI prompter), so a non-empty throwaway password is used. HOME and the
XDG directories point into the test's temp dir, so the user's real keyrings are never touched.
The bus runs from a minimal config without service directories: with D-Bus activation, an early
call could start a second, password-less gnome-keyring that wins the Secret Service name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, fail

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={runtime}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_for_login_collection(timeout: float = 10.0) -> None:
    import secretstorage

    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            connection = secretstorage.dbus_init()
            try:
                paths = [c.collection_path for c in secretstorage.get_all_collections(connection)]
            finally:
                connection.close()
            if any(path.endswith("/login") for path in paths):
                return
        except Exception as exc:  # the daemon is still starting
            last_error = exc
        time.sleep(0.05)
    raise RuntimeError(f"gnome-keyring did not publish a login collection: {last_error}")


@pytest.fixture
def secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyringBackend]:
    """keyring's SecretService backend talking to a private, unlocked gnome-keyring."""
    for program in ("dbus-daemon", "gnome-keyring-daemon"):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed (Debian packages dbus, gnome-keyring)")
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_RUNTIME_DIR": str(runtime),
    }
    bus_config = tmp_path / "bus.conf"
    bus_config.write_text(_BUS_CONFIG.format(runtime=runtime))
    bus = subprocess.Popen(
        [
            "dbus-daemon",
            f"--config-file={bus_config}",
            "--nofork",
            "--nopidfile",
            "--print-address=1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    daemon = None
    previous = keyring.get_keyring()
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        assert address.startswith("unix:"), "dbus-daemon printed no address"
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert daemon.stdin is not None
        daemon.stdin.write(b"sluice-test-only")
        daemon.stdin.close()
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        _wait_for_login_collection()
        backend = SecretService.Keyring()
        keyring.set_keyring(backend)
        yield backend
    finally:
        keyring.set_keyring(previous)
        if daemon is not None:
            _stop(daemon)
        _stop(bus)
        if bus.stdout is not None:
            bus.stdout.close()


@pytest.fixture
def no_keyring() -> Iterator[KeyringBackend]:
    """keyring's `fail` backend: what a headless server without Secret Service gets."""
    previous = keyring.get_keyring()
    backend = fail.Keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
