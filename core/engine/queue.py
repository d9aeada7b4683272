"""A queue bounded by item count and by bytes, so a source of large documents cannot
balloon memory while Elasticsearch is slow."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ByteBoundedQueue(Generic[T]):
    """FIFO of items with a known size; `put` waits while either bound is reached.

    One item larger than the byte bound is still accepted when the queue is empty, so a big
    document slows the pipeline down instead of blocking it forever.
    """

    def __init__(self, max_items: int, max_bytes: int) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._items: deque[tuple[T, int]] = deque()
        self._bytes = 0
        self._space = asyncio.Event()
        self._not_empty = asyncio.Event()
        self.closed = False
        #: Items ever put and taken: an item's place in that sequence is its number, which
        #: tells a checkpoint which operations are behind it (`InFlight.resolved_below`).
        self.put_count = 0
        self.taken_count = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        return self._bytes

    def _has_room(self, size: int) -> bool:
        if not self._items:
            return True
        return len(self._items) < self.max_items and self._bytes + size <= self.max_bytes

    def try_put(self, item: T, size: int) -> bool:
        """Add without waiting when there is room (the hot path); False when full."""
        if not self._has_room(size):
            return False
        self._items.append((item, size))
        self._bytes += size
        self.put_count += 1
        self._not_empty.set()
        return True

    async def put(self, item: T, size: int) -> None:
        while not self.try_put(item, size):
            self._space.clear()
            await self._space.wait()

    def take(self, max_items: int, max_bytes: int) -> list[T]:
        """Up to `max_items` items totalling at most `max_bytes` (at least one when not
        empty), without waiting: how the sink builds a bulk request in one step."""
        items = self._items
        taken: list[T] = []
        size = 0
        while items and len(taken) < max_items:
            item, item_size = items[0]
            if taken and size + item_size > max_bytes:
                break
            items.popleft()
            taken.append(item)
            size += item_size
        if taken:
            self._bytes -= size
            self.taken_count += len(taken)
            self._space.set()
        if not items and not self.closed:
            self._not_empty.clear()
        return taken

    def close(self) -> None:
        """No more items will come: wake every consumer so it can finish."""
        self.closed = True
        self._not_empty.set()

    async def wait_not_empty(self, timeout: float | None = None) -> bool:
        """Wait for an item (or for `close`); False on timeout."""
        if self._items or self.closed:
            return True
        try:
            await asyncio.wait_for(self._not_empty.wait(), timeout)
        except TimeoutError:
            return False
        return True


class InFlight:
    """The requests being sent, each known by the number of its first item. Workers take
    consecutive items (one builds a request at a time), so every item numbered below the
    smallest open request — and below the queue's head — has its outcome."""

    def __init__(self) -> None:
        self._open: dict[int, int] = {}

    def open(self, first: int) -> None:
        self._open[first] = self._open.get(first, 0) + 1

    def close(self, first: int) -> None:
        left = self._open.get(first, 0) - 1
        if left > 0:
            self._open[first] = left
        else:
            self._open.pop(first, None)

    def resolved_below(self, queue: ByteBoundedQueue[Any]) -> int:
        """Every item numbered below this has been answered."""
        return min(self._open, default=queue.taken_count) if self._open else queue.taken_count
