"""Peak memory of a process together with its children (extraction workers, the fork
server), sampled: the kernel's own peak (`ru_maxrss`) is per process, and the children's is
the largest child's, never the sum at one moment."""

from __future__ import annotations

import os
import resource
import threading
from pathlib import Path
from types import TracebackType

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def own_peak_rss_mib() -> float:
    """This process's peak RSS since it started its program. Not `ru_maxrss`: Linux carries
    that across `exec`, so a case started by a big parent reported the parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def family_rss(pid: int) -> int:
    """Bytes resident in `pid` and all its descendants now."""
    total, todo, seen = 0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        total += _rss(current)
        todo += _children(current)
    return total


class FamilyRss:
    """Samples this process's family every `interval` seconds while in the `with` block."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def peak_mib(self) -> float:
        return self.peak / 1048576

    def _run(self) -> None:
        pid = os.getpid()
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, family_rss(pid))

    def __enter__(self) -> FamilyRss:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, family_rss(os.getpid()))
