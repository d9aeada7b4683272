"""Lazy content: a document's content loaded just before it is written, a few at a time.

A source may yield a document's metadata with a loader for its content (a file's text,
`SourceDocument.content`). The engine decides first whether the document is written at all
(an unchanged one in an incremental sync is not), and only then hands the loader here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sluice.core.engine.source import CONTENT_CONCURRENCY, ContentLoader

#: Called with the loaded fields, or with the exception that stopped the loader.
Finish = Callable[[Mapping[str, Any] | None, Exception | None], Awaitable[None]]


class ContentLoads:
    """Runs content loaders with at most `limit` in flight. A loader that raises fails its
    own document only (`finish` gets the exception). An exception of `finish` itself (the
    index rejects the document's fields) is the sync's: raised by the next `submit` or by
    `drain`, the other loads cancelled."""

    def __init__(self, limit: int = CONTENT_CONCURRENCY) -> None:
        self._slots = asyncio.Semaphore(max(1, limit))
        self._tasks: dict[asyncio.Task[None], int] = {}  # each load and its item's number
        self._error: BaseException | None = None

    def oldest(self) -> int | None:
        """The number of the oldest item whose load has not finished (None: all done)."""
        return min(self._tasks.values(), default=None)

    async def submit(self, load: ContentLoader, finish: Finish, number: int = 0) -> None:
        """Start `load` once a slot is free (waiting here is the back-pressure); `number`
        is the item's place in the source's order, for checkpoints."""
        self._raise()
        await self._slots.acquire()
        if self._error is not None:
            self._slots.release()
            self._raise()
        task = asyncio.create_task(self._one(load, finish))
        self._tasks[task] = number
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)

    async def drain(self) -> None:
        """Wait for every load started; raise the first error of a `finish`."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        self._raise()

    def cancel(self) -> None:
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()

    async def _one(self, load: ContentLoader, finish: Finish) -> None:
        try:
            try:
                fields: Mapping[str, Any] | None = await load()
                error: Exception | None = None
            except Exception as exc:  # that document's failure, not the sync's
                fields, error = None, exc
            await finish(fields, error)
        except Exception as exc:
            if self._error is None:
                self._error = exc
            self.cancel()
        finally:
            self._slots.release()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
