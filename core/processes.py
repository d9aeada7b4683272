"""Other processes, reliably: is this pid still the process we started (not a later one that
reuses its number), what does it run, how to stop it, and how to start a child that dies with
us even on kill -9. Linux /proc where there is one; elsewhere a plainer best effort.
And this process's own end when its terminal is gone: no writes to a dead terminal, no child
process left behind.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HAS_PROC = Path("/proc/self/stat").exists()
#: Children can be tied to our life (PR_SET_PDEATHSIG) only on Linux.
CAN_TIE = sys.platform.startswith("linux") and bool(sys.executable)

#: Run by the child before it execs the real program: ask the kernel to SIGTERM it when its
#: parent goes (however the parent dies), and give up if the parent is already gone.
_TIE_TO_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGTERM)\n"  # 1 = PR_SET_PDEATHSIG
    "if os.getppid() != int(sys.argv[1]): sys.exit(1)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def start_time(pid: int) -> int | None:
    """When a live process started (clock ticks since boot); None when it is gone, a zombie,
    or there is no /proc to ask."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) "
    if len(rest) < 20:
        return None
    if rest[0] in ("Z", "X") and _threads(pid) <= 1:
        return None  # a zombie; while other threads still exit, it still holds its sockets
    return int(rest[19])  # field 22 of stat


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def alive(pid: int, started: int | None = None) -> bool:
    """`pid` is a live process (and the same one, when its start time is known)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, but someone else's
    if not HAS_PROC:
        return True
    now = start_time(pid)
    return now is not None and (started is None or now == started)


def command_line(pid: int) -> list[str]:
    """The process's argv ([] when gone or unknown)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def option(argv: list[str], name: str) -> str | None:
    """The value after `name` in `argv` (`--data-dir X` -> X)."""
    for i, arg in enumerate(argv[:-1]):
        if arg == name:
            return argv[i + 1]
    return None


def all_pids() -> list[int]:
    if not HAS_PROC:
        return []
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def terminate(pid: int, started: int | None = None, timeout: float = 10.0) -> bool:
    """SIGTERM `pid`, SIGKILL if it lingers past `timeout`; True once it is gone."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        if not alive(pid, started):
            return True
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and alive(pid, started):
            time.sleep(0.05)
    return not alive(pid, started)


_spawner: ThreadPoolExecutor | None = None
_spawner_guard = threading.Lock()


def spawn_tied(argv: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """Popen `argv` so it dies with this process, even on kill -9 (Linux; elsewhere a plain
    Popen). The kernel sends the parent-death signal when the *thread* that forked the child
    ends, so the fork happens on one thread that lives as long as the process (callers such
    as the TUI run in short-lived worker threads)."""
    if not CAN_TIE:
        return subprocess.Popen(argv, **options)
    global _spawner
    with _spawner_guard:
        if _spawner is None:
            _spawner = ThreadPoolExecutor(1, thread_name_prefix="tied-spawner")
    tied = [sys.executable, "-I", "-S", "-c", _TIE_TO_PARENT, str(os.getpid()), *argv]

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen(tied, **options)

    return _spawner.submit(spawn).result()


# ------------------------------------------------------------ leaving with a dead terminal


def silence_terminal() -> None:
    """Point stdin/stdout/stderr at /dev/null: the terminal is gone, and writing to it would
    fail or block."""
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            with contextlib.suppress(OSError):
                os.dup2(null, fd)
        os.close(null)


def end_child_processes(grace: float = 1.0) -> None:
    """Stop the extraction workers (children of multiprocessing's fork server, so not ours
    to see), then terminate this process's own multiprocessing children, then kill what is
    left. `os._exit` skips the `atexit` hooks that would do this."""
    extraction = sys.modules.get("sluice.core.extraction")
    if extraction is not None:
        with contextlib.suppress(Exception):
            extraction.shutdown()
    children = multiprocessing.active_children()
    for child in children:
        with contextlib.suppress(Exception):
            child.terminate()
    until = time.monotonic() + grace
    for child in children:
        with contextlib.suppress(Exception):
            child.join(max(0.0, until - time.monotonic()))
            if child.is_alive():
                child.kill()
