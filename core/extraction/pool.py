"""The worker processes that run the readers.

A pebble `ProcessPool` gives per-task time limits (the worker running a task that times out
is killed and replaced) and survives worker crashes (only that task fails). Workers are
started by a fork server so they never inherit the event loop's threads or sockets.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver, resource_tracker
from typing import Any, TypeVar

import pebble

from sluice.core.extraction.errors import ExtractionError, ExtractionTimeoutError
from sluice.core.extraction.worker import init_worker

T = TypeVar("T")

DEFAULT_MEMORY_LIMIT = 2 << 30  # per worker; parsing libraries need room, bombs must not


class _Settings:
    max_workers: int = max(1, min(4, os.cpu_count() or 1))
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT


_lock = threading.Lock()
_pool: pebble.ProcessPool | None = None


def configure(*, max_workers: int | None = None, memory_limit: int | None = None) -> None:
    """Set the pool size and per-worker memory cap (bytes; 0 = none). Applies to the next
    pool started: call before the first extraction or after `shutdown()`."""
    if max_workers is not None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        _Settings.max_workers = max_workers
    if memory_limit is not None:
        _Settings.memory_limit = memory_limit or None


def worker_count() -> int:
    """How many worker processes the pool runs (useful to size read-ahead)."""
    return _Settings.max_workers


def _context() -> Any:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sluice.core.extraction.worker"])
        return context
    return multiprocessing.get_context("spawn")


def _stderr_has_descriptor() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        return False


def _start_helper_processes(context: Any) -> None:
    """Start multiprocessing's resource tracker (and fork server) now, with a real stderr.

    They are handed `sys.stderr.fileno()`. Inside a Textual app sys.stderr is a capture
    object without a usable descriptor, and starting them there fails with "bad value(s) in
    fds_to_keep" — so when stderr has none they get the null device instead. Once running
    they are reused, so later worker starts (from pebble's thread) never ask again.
    """
    saved = sys.stderr
    devnull = None
    if not _stderr_has_descriptor():
        devnull = open(os.devnull, "w")  # noqa: SIM115 - closed below
        sys.stderr = devnull
    try:
        resource_tracker.ensure_running()
        if context.get_start_method() == "forkserver":
            forkserver.ensure_running()
    finally:
        if devnull is not None:
            sys.stderr = saved
            devnull.close()


def _get_pool() -> pebble.ProcessPool:
    global _pool
    with _lock:
        if _pool is None or not _pool.active:
            context = _context()
            _start_helper_processes(context)
            _pool = pebble.ProcessPool(
                max_workers=_Settings.max_workers,
                initializer=init_worker,
                initargs=(_Settings.memory_limit,),
                context=context,
            )
        return _pool


async def run_in_pool(
    func: Callable[..., T], args: tuple[Any, ...], *, filename: str, timeout: float
) -> T:
    """Run `func(*args)` in a worker; a timeout or a crashed worker becomes an
    `ExtractionError` for `filename`, and the pool carries on with a fresh worker."""
    try:
        future = _get_pool().schedule(func, args=args, timeout=timeout)
    except RuntimeError:  # the pool was stopped under us: start a new one once
        shutdown()
        future = _get_pool().schedule(func, args=args, timeout=timeout)
    try:
        return await asyncio.wrap_future(future)
    except TimeoutError:
        raise ExtractionTimeoutError(
            filename, f"took longer than {timeout:g} s to read; the reader was stopped"
        ) from None
    except pebble.ProcessExpired as exc:
        raise ExtractionError(
            filename, f"crashed the reader (exit code {exc.exitcode}); the file is likely corrupt"
        ) from None
    except BrokenProcessPool as exc:
        # Workers that die at start (e.g. an unguarded __main__) break the whole pool:
        # drop it so the next file gets a fresh one, and fail only this file.
        shutdown()
        raise ExtractionError(filename, f"the extraction workers stopped ({exc})") from None


def shutdown() -> None:
    """Stop the worker processes. Idempotent; a later extraction starts a new pool."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.stop()
        pool.join(timeout=10)


def worker_pids() -> list[int]:
    """Process ids of the live workers (for diagnostics and tests)."""
    with _lock:
        pool = _pool
    if pool is None:
        return []
    workers = getattr(getattr(pool, "_pool_manager", None), "worker_manager", None)
    return [w.pid for w in getattr(workers, "workers", {}).values() if w.pid]


atexit.register(shutdown)
