"""Start and stop a local Elasticsearch-compatible sandbox, for trying Sluice on one machine.

The sandbox is `noida-db` (the `sandbox` extra), an Elasticsearch 8.15 REST emulator run as a
child process on loopback. It is NOT FOR PRODUCTION: no security, no Connector API, and it
accepts things a real cluster rejects. It lets `make run` walk the whole flow on a fresh machine.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import httpx

#: Shown wherever the sandbox is offered or used.
SANDBOX_WARNING = "Local sandbox (noida-db): NOT FOR PRODUCTION — no security, data on this disk."


class SandboxError(RuntimeError):
    """The sandbox could not be started; the message says why and what to do."""


@dataclass
class Sandbox:
    """A running sandbox server (owned by this process)."""

    url: str
    port: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def running(self) -> bool:
        return self.process.poll() is None


def sandbox_binary() -> Path | None:
    """Path of noida-db's packaged binary, or None when the `sandbox` extra is not installed."""
    try:
        path = Path(str(files("noida_db") / "noida-db"))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


def sandbox_available() -> bool:
    return sandbox_binary() is not None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/_cluster/health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_sandbox(data_dir: Path, port: int | None = None, timeout: float = 30.0) -> Sandbox:
    """Start the sandbox on 127.0.0.1 and wait until it answers.

    `port` is reused when free (so a resumed setup finds its data at the same address);
    otherwise a free port is picked. Output goes to `<data_dir>/server.log`.
    """
    binary = sandbox_binary()
    if binary is None:
        raise SandboxError(
            "The sandbox is not installed. Install it with: pip install 'sluice[sandbox]'"
        )
    binary.chmod(0o755)
    if port is None or not port_is_free(port):
        port = free_port()
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    url = f"http://127.0.0.1:{port}"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                str(binary),
                "start",
                "--only",
                "elasticsearch",
                "--host",
                "127.0.0.1",
                "--elasticsearch-port",
                str(port),
                "--data-dir",
                str(data_dir / "data"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    sandbox = Sandbox(url=url, port=port, data_dir=data_dir, log_path=log_path, process=process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SandboxError(
                f"The sandbox exited at start (code {process.returncode}). "
                f"See {log_path}:\n{_log_tail(log_path)}"
            )
        if _answers(url):
            return sandbox
        time.sleep(0.2)
    stop_sandbox(sandbox)
    raise SandboxError(f"The sandbox did not answer within {timeout:.0f} s. See {log_path}.")


def stop_sandbox(sandbox: Sandbox, timeout: float = 10.0) -> None:
    """Stop the sandbox (its data stays in `data_dir`)."""
    if sandbox.process.poll() is not None:
        return
    sandbox.process.terminate()
    try:
        sandbox.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        sandbox.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            sandbox.process.wait(timeout=timeout)
