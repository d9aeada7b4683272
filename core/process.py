"""Leaving a process cleanly when its terminal is gone: no writes to a dead terminal, no
child process left behind."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time


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
    extraction = sys.modules.get("core.extraction")
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
