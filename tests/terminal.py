"""A real pseudo-terminal for the app: start `sluice` in it, type, close it (a dropped SSH
session sends SIGHUP exactly so), and see which processes are left."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class Terminal:
    """`sluice ARGS` running in a pty of `columns` x `lines`."""

    args: list[str]
    cwd: Path
    columns: int = 100
    lines: int = 30
    env: dict[str, str] = field(default_factory=dict)
    pid: int = 0
    fd: int = -1
    output: bytearray = field(default_factory=bytearray)
    exit_status: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pump: threading.Thread | None = None

    def start(self) -> Terminal:
        env = {**os.environ, "TERM": "xterm-256color", **self.env}
        env.pop("SLUICE_TUI_TEST_MODE", None)
        pid, fd = pty.fork()
        if pid == 0:  # the child: becomes the session leader of the new terminal
            os.chdir(self.cwd)
            os.execve(sys.executable, [sys.executable, "-m", "sluice", *self.args], env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", self.lines, self.columns, 0, 0))
        # A terminal nobody reads fills up and blocks the app: read it all the time.
        self._pump = threading.Thread(target=self._read_all, daemon=True, name="pty-reader")
        self._pump.start()
        return self

    def _read_all(self) -> None:
        while True:
            fd = self.fd
            if fd < 0:
                return
            try:
                ready, _, _ = select.select([fd], [], [], 0.1)
                data = os.read(fd, 65536) if ready else b""
            except (OSError, ValueError):
                return
            if ready and not data:
                return
            with self._lock:
                self.output += data

    def read(self, seconds: float = 0.2) -> bytes:
        """What the app wrote, after letting it run for `seconds`."""
        time.sleep(seconds)
        with self._lock:
            return bytes(self.output)

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def wait_for_text(self, text: str, timeout: float = 20.0) -> None:
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            if text.encode() in self.read(0.2):
                return
        raise AssertionError(f"{text!r} never appeared on the terminal")

    def hang_up(self) -> None:
        """Close the terminal: the kernel sends SIGHUP to the session's processes."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def wait_exit(self, timeout: float) -> int | None:
        """The exit status once the app ended within `timeout`, else None."""
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exit_status = os.waitstatus_to_exitcode(status)
                return self.exit_status
            time.sleep(0.05)
        return None

    def kill(self) -> None:
        """Last resort cleanup after a failed test: nothing may outlive it."""
        for pid in [self.pid, *descendants(self.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self.hang_up()
