"""Start-up figures (`make bench` prints them first): `sluice --help`, `sluice check` against
the local server, the time to the wizard's and the monitor's first frame (the real command in
a pseudo-terminal, timed until its first screen is drawn), and how fast a key is answered
while a sync runs in the TUI.

Goals (issue 20): --help ≤ 0.15 s; first frames ≤ 0.8 s whatever the cluster's state; a key
answered within 100 ms while syncing.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
#: A closed loopback port: "the cluster is down" without waiting for a remote host.
DOWN = "http://127.0.0.1:9"


def sluice_script() -> list[str]:
    """The installed console script, as a user runs it (else `python -m sluice`)."""
    script = Path(sys.executable).with_name("sluice")
    if script.exists():
        return [str(script)]
    found = shutil.which("sluice")
    return [found] if found else [sys.executable, "-m", "sluice"]


def timed_run(args: list[str], cwd: Path, runs: int) -> float:
    """Median wall time of a command run to its end."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def first_frame(args: list[str], cwd: Path, marker: bytes, timeout: float = 20.0) -> float:
    """Seconds from spawning `args` in a 100x32 pseudo-terminal until `marker` is drawn."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, in the terminal
        os.chdir(cwd)
        os.environ.update({"TERM": "xterm-256color", "COLUMNS": "100", "LINES": "32"})
        os.execv(args[0], args)
    start = time.perf_counter()
    seen = b""
    elapsed = timeout
    try:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 32, 100, 0, 0))
        deadline = start + timeout
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if marker in _ANSI.sub(b"", seen):
                elapsed = time.perf_counter() - start
                break
    finally:
        with _quiet():
            os.kill(pid, 15)
        with _quiet():
            os.waitpid(pid, 0)
        os.close(fd)
    return elapsed


class _quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


def frames(args: list[str], cwd: Path, marker: bytes, runs: int) -> float:
    return statistics.median(first_frame(args, cwd, marker) for _ in range(runs))


def config(folder: Path, host: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yml"
    path.write_text(f"elasticsearch:\n  host: {host}\n  request_timeout: 5\n", encoding="utf-8")
    return path


def report(runs: int = 5) -> None:
    script = sluice_script()
    print(f"\nStart-up (median of {runs} runs)")
    with tempfile.TemporaryDirectory(prefix="sluice-startup-") as tmp:
        base = Path(tmp)
        help_s = timed_run([*script, "--help"], base, runs)
        print(f"  sluice --help                              {help_s:6.3f} s   (goal ≤ 0.15 s)")
        es_url = os.environ.get("SLUICE_ES_URL")
        states = [("cluster down", DOWN)]
        if es_url:
            config(base / "up", es_url)
            check_s = timed_run([*script, "check"], base / "up", max(2, runs // 2))
            print(f"  sluice check (local server)                {check_s:6.3f} s")
            states.append(("local server", es_url))
        for label, host in states:
            folder = base / label.replace(" ", "-")
            config(folder, host)
            wizard = frames([*script, "--new"], folder, b"Prerequisites", runs)
            # the step's own text: its form is mounted and takes keys
            usable = frames([*script, "--new"], folder, b"Choose the data source", runs)
            monitor = frames([*script, "monitor"], folder, b"Monitor (read-only)", runs)
            print(
                f"  first frame, {label:<13} wizard {wizard:6.3f} s  monitor {monitor:6.3f} s"
                "   (goal ≤ 0.8 s)"
            )
            print(f"  wizard's step 1 ready,  {label:<13} {usable:6.3f} s")


if __name__ == "__main__":
    report()
