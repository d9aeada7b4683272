"""Start, find and stop the local Elasticsearch-compatible sandbox, to try Sluice on one machine.

The sandbox is `noida-db` (the `sandbox` extra), an Elasticsearch 8.15 REST emulator on
loopback. It is NOT FOR PRODUCTION: no security, no Connector API, and it accepts things a real
cluster rejects. It lets `make run` walk the whole flow on a fresh machine.

It lives in a "home" folder, `<folder of config.yml>/.sluice/sandbox/`:

- `data/`          noida-db's data, kept across restarts and `sluice --new`;
- `server.log`     its output;
- `sandbox.json`   its port, stable so config.yml stays right (DEFAULT_PORT unless another
  was chosen or it was taken);
- `sandbox.pid`    the running server: pid, port, process start time and its owner.

Two kinds of life. Owned by a Sluice app (the TUI's "try it on this machine"): it dies with
the app, even on kill -9 (Linux parent-death signal). Kept running (`sluice sandbox start`):
detached in its own session until `sluice sandbox stop`. A lock whose process is gone (or whose
pid now belongs to another program) is stale and removed; a live sandbox of the same home is
adopted instead of being started twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sluice.core import processes
from sluice.core.invocation import sluice_command
from sluice.core.paths import private_dir

#: Shown wherever the sandbox is offered or used.
SANDBOX_WARNING = "Local sandbox (noida-db): NOT FOR PRODUCTION — no security, data on this disk."

#: The sandbox's port unless `sandbox.json` says otherwise: Elasticsearch's 9200 with a 1 in
#: front, so it never clashes with a real local cluster. $SLUICE_SANDBOX_PORT overrides it.
DEFAULT_PORT = 19200
PORT_ENV = "SLUICE_SANDBOX_PORT"

_HOME = (".sluice", "sandbox")
_SETTINGS = "sandbox.json"
_LOCK = "sandbox.pid"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class SandboxError(RuntimeError):
    """The sandbox could not be started or stopped; the message says why and what to do."""


@dataclass
class Sandbox:
    """A running sandbox server, started here or found running (adopted)."""

    url: str
    port: int
    data_dir: Path  # the home folder (data in `data/`, log in `server.log`)
    log_path: Path
    pid: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    #: Process start time (clock ticks since boot), to tell it from a later process with its pid.
    started: int | None = None
    #: The Sluice process that stops it when exiting; None = kept running on its own.
    owner: int | None = None
    owner_started: int | None = None
    #: This process stops it on `release_sandbox` (it started it, or took over an orphan).
    owned: bool = False
    #: Found running rather than started by this call.
    adopted: bool = False

    @property
    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return processes.alive(self.pid, self.started)

    @property
    def orphaned(self) -> bool:
        """Its app exited without stopping it (the next start takes it over)."""
        return self.owner is not None and not processes.alive(self.owner, self.owner_started)

    @property
    def kept_running(self) -> bool:
        """Started by `sluice sandbox start` (or taken over by it): no app stops it."""
        return self.owner is None

    @property
    def data_path(self) -> Path:
        return self.data_dir / "data"


# --------------------------------------------------------------------------- where


def sandbox_binary() -> Path | None:
    """Path of noida-db's packaged binary, or None when the `sandbox` extra is not installed."""
    try:
        path = Path(str(files("noida_db") / "noida-db"))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


def sandbox_available() -> bool:
    return sandbox_binary() is not None


def sandbox_home(config_path: str | os.PathLike[str]) -> Path:
    """The sandbox folder that belongs with this config.yml."""
    return Path(config_path).expanduser().resolve().parent.joinpath(*_HOME)


def default_port() -> int:
    raw = os.environ.get(PORT_ENV, "").strip()
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SandboxError(f"{PORT_ENV}={raw!r} is not a port: set it to 1-65535 or unset it.")
    return int(raw)


def configured_port(home: str | os.PathLike[str]) -> int:
    """The port this home's sandbox uses: the one saved in `sandbox.json`, else the default."""
    port = _read_json(_home(home) / _SETTINGS).get("port")
    if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536:
        return port
    return default_port()


def not_running_message() -> str:
    """What a command says when config.yml points at the sandbox and nothing answers there."""
    return (
        f"the local sandbox is not running; start it with `{sluice_command()} sandbox start` "
        "(or `make run` → 'try it on this machine')"
    )


# --------------------------------------------------------------------------- ports


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nobody listens on `port`. SO_REUSEADDR, as servers use, so connections of a server just
    stopped (TIME_WAIT) do not count as taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _port_frees(port: int, wait: float = 2.0) -> bool:
    """The port is free, or comes free within `wait` s (a server just stopped lets go)."""
    deadline = time.monotonic() + wait
    while not port_is_free(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def answers(url: str, timeout: float = 2.0) -> bool:
    """The server at `url` answers Elasticsearch's health call."""
    import httpx  # here: `sluice --help` imports this module and must not pay for httpx

    try:
        health = httpx.get(f"{url}/_cluster/health", timeout=timeout, trust_env=False)
        return health.status_code == 200
    except httpx.HTTPError:
        return False


def is_sandbox_url(host: Any, home: str | os.PathLike[str]) -> bool:
    """`host` (elasticsearch.host of a config) is this home's sandbox address."""
    parts = urlsplit(str(host or "").strip())
    try:
        port = parts.port
    except ValueError:
        return False
    if parts.scheme != "http" or parts.hostname not in _LOOPBACK or port is None:
        return False
    ports = {DEFAULT_PORT}
    with contextlib.suppress(SandboxError):
        ports |= {default_port(), configured_port(home)}
    return port in ports


def sandbox_down(host: Any, home: str | os.PathLike[str]) -> bool:
    """`host` is the sandbox's address and nothing listens there. A quick TCP probe, so a
    command can say so at once instead of retrying against a closed port for half a minute."""
    if not is_sandbox_url(host, home):
        return False
    parts = urlsplit(str(host).strip())
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 1.0):
            return False
    except OSError:
        return True


# --------------------------------------------------------------------------- processes


def _serves(pid: int, home: Path) -> bool:
    """`pid` is noida-db running on this home's data (not another program reusing the pid)."""
    if not processes.HAS_PROC:
        return True
    argv = processes.command_line(pid)
    return (
        bool(argv)
        and Path(argv[0]).name == "noida-db"
        and processes.option(argv, "--data-dir") == str(home / "data")
    )


def _sandbox_on_port(port: int) -> Path | None:
    """The data folder of a noida-db listening on `port` per its command line, if any."""
    for pid in processes.all_pids():
        argv = processes.command_line(pid)
        if (
            argv
            and Path(argv[0]).name == "noida-db"
            and processes.option(argv, "--elasticsearch-port") == str(port)
        ):
            data = processes.option(argv, "--data-dir")
            return Path(data) if data else None
    return None


# --------------------------------------------------------------------------- files


def _home(home: str | os.PathLike[str]) -> Path:
    return Path(home).expanduser().resolve()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write whole or not at all (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def _write_lock(sandbox: Sandbox) -> None:
    _write_json(
        sandbox.data_dir / _LOCK,
        {
            "pid": sandbox.pid,
            "port": sandbox.port,
            "started": sandbox.started,
            "owner": sandbox.owner,
            "owner_started": sandbox.owner_started,
        },
    )


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _from_lock(home: Path) -> Sandbox | None:
    raw = _read_json(home / _LOCK)
    pid, port = _int_or_none(raw.get("pid")), _int_or_none(raw.get("port"))
    if not pid or not port:
        return None
    return Sandbox(
        url=f"http://127.0.0.1:{port}",
        port=port,
        data_dir=home,
        log_path=home / "server.log",
        pid=pid,
        started=_int_or_none(raw.get("started")),
        owner=_int_or_none(raw.get("owner")),
        owner_started=_int_or_none(raw.get("owner_started")),
        adopted=True,
    )


def _remove_lock(home: Path, pid: int) -> None:
    """Remove the lock if it is still `pid`'s (another start may have replaced it)."""
    if _int_or_none(_read_json(home / _LOCK).get("pid")) == pid:
        (home / _LOCK).unlink(missing_ok=True)


def clear_stale_lock(home: str | os.PathLike[str]) -> int | None:
    """Remove a lock whose process is gone (or is now another program); its pid, else None."""
    home = _home(home)
    path = home / _LOCK
    if not path.exists():
        return None
    found = _from_lock(home)
    if found is not None and processes.alive(found.pid, found.started) and _serves(found.pid, home):
        return None
    path.unlink(missing_ok=True)
    return found.pid if found is not None else 0


def find_sandbox(home: str | os.PathLike[str]) -> Sandbox | None:
    """The sandbox running for this home, if any (a stale lock is removed on the way). One
    started without a lock (an older Sluice, or a start interrupted) is found through
    noida-db's own control file and recorded as an orphan."""
    home = _home(home)
    clear_stale_lock(home)
    found = _from_lock(home)
    if found is not None:
        return found
    pid = _int_or_none(_read_json(home / "data" / "noida.control.json").get("pid"))
    if not pid or not processes.alive(pid) or not _serves(pid, home):
        return None
    port = processes.option(processes.command_line(pid), "--elasticsearch-port")
    if port is None or not port.isdigit():
        return None
    found = Sandbox(
        url=f"http://127.0.0.1:{port}",
        port=int(port),
        data_dir=home,
        log_path=home / "server.log",
        pid=pid,
        started=processes.start_time(pid),
        owner=0,  # unknown, so treated as an orphan and taken over
        adopted=True,
    )
    _write_lock(found)
    return found


# --------------------------------------------------------------------------- start / stop


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def _wait_until_answers(sandbox: Sandbox, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not sandbox.running:
            code = sandbox.process.returncode if sandbox.process is not None else "?"
            raise SandboxError(
                f"The sandbox exited at start (code {code}). "
                f"See {sandbox.log_path}:\n{_log_tail(sandbox.log_path)}"
            )
        if answers(sandbox.url):
            return
        time.sleep(0.2)
    raise SandboxError(
        f"The sandbox (pid {sandbox.pid}) did not answer at {sandbox.url} within "
        f"{timeout:.0f} s. See {sandbox.log_path}."
    )


def port_holder(port: int) -> str:
    """Who holds `port`, for messages: another sandbox (with its data folder) or a program."""
    other = _sandbox_on_port(port)
    if other is not None:
        return f"another sandbox (data folder {other})"
    return "another program"


def _port_taken(port: int) -> str:
    return (
        f"Port {port} is in use by {port_holder(port)}, not this sandbox; free it, or pick "
        f"another port: `{sluice_command()} sandbox start --port N`."
    )


def _adopt(found: Sandbox, keep_running: bool, timeout: float) -> Sandbox:
    """Use a sandbox already running for this home; take over an orphan (its app is gone)."""
    me = os.getpid()
    if found.owner == me:
        found.owned = True
    elif found.owner is not None and processes.alive(found.owner, found.owner_started):
        if keep_running:
            raise SandboxError(
                f"The sandbox at {found.url} belongs to the Sluice app (pid {found.owner}) and "
                "stops when the app exits. To keep one running, quit the app, then run "
                f"`{sluice_command()} sandbox start`."
            )
    elif found.owner is not None:  # an orphan: its app died without stopping it
        found.owner = None if keep_running else me
        found.owner_started = None if keep_running else processes.start_time(me)
        found.owned = not keep_running
        _write_lock(found)
    _wait_until_answers(found, timeout)
    return found


def start_sandbox(
    data_dir: str | os.PathLike[str],
    port: int | None = None,
    timeout: float = 30.0,
    *,
    keep_running: bool = False,
    any_port_if_taken: bool = False,
) -> Sandbox:
    """Start the sandbox of this home on 127.0.0.1 and wait until it answers, or adopt the
    one already running there.

    `port` (else the saved one, else DEFAULT_PORT) is saved for next time. If something else
    holds it: SandboxError saying so, or, with `any_port_if_taken`, a free port (saved too).
    `keep_running`: detached in its own session, outliving this process; otherwise it dies
    with this process (call `release_sandbox` on a clean exit).
    """
    binary = sandbox_binary()
    if binary is None:
        raise SandboxError(
            "The sandbox is not installed. Install it with: pip install 'sluice[sandbox]'"
        )
    home = private_dir(_home(data_dir))  # 0700: the cluster's data is the user's documents
    found = find_sandbox(home)
    if found is not None:
        return _adopt(found, keep_running, timeout)
    port = port or configured_port(home)
    if not _port_frees(port):
        if not any_port_if_taken:
            raise SandboxError(_port_taken(port))
        port = free_port()
    _write_json(home / _SETTINGS, {"port": port})
    sandbox = _launch(binary, home, port, keep_running)
    try:
        _wait_until_answers(sandbox, timeout)
    except SandboxError:
        if sandbox.running:
            stop_sandbox(sandbox)
        elif (winner := find_sandbox(home)) is not None:  # another start won the race
            return _adopt(winner, keep_running, timeout)
        raise
    _write_lock(sandbox)
    return sandbox


def _launch(binary: Path, home: Path, port: int, keep_running: bool) -> Sandbox:
    with contextlib.suppress(OSError):
        binary.chmod(0o755)
    argv = [
        str(binary),
        "start",
        "--only",
        "elasticsearch",
        "--host",
        "127.0.0.1",
        "--elasticsearch-port",
        str(port),
        "--data-dir",
        str(home / "data"),
    ]
    log_path = home / "server.log"
    with log_path.open("ab") as log:
        options: dict[str, Any] = {
            "stdin": subprocess.DEVNULL,
            "stdout": log,
            "stderr": subprocess.STDOUT,
            "start_new_session": True,  # the terminal's Ctrl-C and hangup do not reach it
        }
        if keep_running:
            process = subprocess.Popen(argv, **options)
        else:
            process = processes.spawn_tied(argv, **options)
    me = os.getpid()
    return Sandbox(
        url=f"http://127.0.0.1:{port}",
        port=port,
        data_dir=home,
        log_path=log_path,
        pid=process.pid,
        process=process,
        started=processes.start_time(process.pid),
        owner=None if keep_running else me,
        owner_started=None if keep_running else processes.start_time(me),
        owned=not keep_running,
    )


def stop_sandbox(sandbox: Sandbox, timeout: float = 10.0) -> None:
    """Stop the sandbox, whoever started it (its data stays in `data_dir`)."""
    process = sandbox.process
    if process is not None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=timeout)
    elif not processes.terminate(sandbox.pid, sandbox.started, timeout):
        raise SandboxError(f"The sandbox (pid {sandbox.pid}) did not stop, even on SIGKILL.")
    _remove_lock(sandbox.data_dir, sandbox.pid)


def release_sandbox(sandbox: Sandbox) -> None:
    """On exit: stop the sandbox if this process owns it; leave one kept running alone."""
    if sandbox.owned:
        stop_sandbox(sandbox)


def stop_home(home: str | os.PathLike[str], timeout: float = 10.0) -> Sandbox | None:
    """Stop the sandbox running for this home; the one stopped, or None if none ran."""
    found = find_sandbox(home)
    if found is not None:
        stop_sandbox(found, timeout)
    return found
