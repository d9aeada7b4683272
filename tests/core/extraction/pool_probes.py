"""Functions run inside extraction workers by the tests: a hang and a hard crash."""

from __future__ import annotations

import os
import signal
import time


def sleep_for(seconds: float) -> str:
    time.sleep(seconds)
    return "woke up"


def crash(pid_file: str) -> str:
    with open(pid_file, "w") as out:
        out.write(str(os.getpid()))
    os.kill(os.getpid(), signal.SIGKILL)
    return "unreachable"


def pid() -> int:
    return os.getpid()
