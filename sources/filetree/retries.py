"""Retries with exponential back-off and jitter, for the requests of file-tree sources.

Stores answer "slow down" (S3's 503 SlowDown, Azure's 503 ServerBusy, GCS's 429) and drop
connections under load; those are retried, everything else (a wrong key, a missing bucket)
is raised at once, since waiting cannot fix it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

logger = logging.getLogger("sluice.sources.filetree")

BASE_DELAY = 0.5
MAX_DELAY = 30.0


async def retrying(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    transient: Callable[[BaseException], bool],
    what: str,
    base_delay: float = BASE_DELAY,
) -> T:
    """`await call()`, tried up to `attempts` times while it fails with a `transient` error;
    the last error is raised as it is."""
    attempts = max(1, attempts)
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except Exception as exc:
            if attempt >= attempts or not transient(exc):
                raise
            delay = min(MAX_DELAY, base_delay * 2 ** (attempt - 1))
            delay *= 0.5 + random.random()  # jitter: many workers must not retry in step
            logger.info(
                "%s failed (%s), try %d of %d in %.1f s",
                what,
                type(exc).__name__,
                attempt + 1,
                attempts,
                delay,
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
