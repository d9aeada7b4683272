"""Many small reads in one thread hop.

Lazy content loads each file only when the engine writes it, a few loads at a time. Most
files are small text, and a thread hop per file costs more than reading it (measured: the
`dir` benchmark fell from 8.3k to 4.6k files/s). Loads that wait at the same moment are
gathered here and read together on one worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class BatchedReads(Generic[Item, Result]):
    """`await reads.read(item)` runs `read_one(item)` on a worker thread, together with the
    other items asked for before the event loop turns. `read_one` must not raise for one
    item's problem (return it instead): an exception fails the whole batch."""

    def __init__(self, read_one: Callable[[Item], Result]) -> None:
        self._read_one = read_one
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flushes: set[asyncio.Task[None]] = set()
        self.batches = 0  # thread hops so far (for tests and benchmarks)

    async def read(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Result] = loop.create_future()
        self._waiting.append((item, answer))
        if len(self._waiting) == 1:  # the first of a batch: read once the loop turns
            loop.call_soon(self._flush)
        return await answer

    def _flush(self) -> None:
        batch, self._waiting = self._waiting, []
        if batch:
            task = asyncio.ensure_future(self._read_batch(batch))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _read_batch(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        items = [item for item, _ in batch]
        self.batches += 1
        try:
            results = await asyncio.to_thread(lambda: [self._read_one(i) for i in items])
        except BaseException as exc:
            for _, answer in batch:
                if not answer.done():
                    answer.set_exception(exc)
            return  # the readers have it
        for (_, answer), result in zip(batch, results, strict=True):
            if not answer.done():
                answer.set_result(result)
