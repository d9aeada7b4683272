"""Reads asked for together share one thread hop; a broken batch never leaves a reader
waiting."""

from __future__ import annotations

import asyncio
import threading

import pytest

from sluice.sources.directory.batched_reads import BatchedReads


async def test_reads_waiting_together_run_in_one_thread_hop() -> None:
    threads: set[int] = set()

    def read_one(n: int) -> int:
        threads.add(threading.get_ident())
        return n * n

    reads: BatchedReads[int, int] = BatchedReads(read_one)
    results = await asyncio.gather(*(reads.read(n) for n in range(50)))
    assert results == [n * n for n in range(50)]
    assert reads.batches == 1
    assert threading.get_ident() not in threads  # never on the event loop's thread
    # later reads make a new batch
    assert await reads.read(7) == 49 and reads.batches == 2


async def test_an_exception_fails_every_reader_of_its_batch() -> None:
    def read_one(n: int) -> int:
        raise OSError("disk gone")

    reads: BatchedReads[int, int] = BatchedReads(read_one)
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(reads.read(n) for n in range(3)), return_exceptions=True), timeout=5
    )
    assert all(isinstance(o, OSError) for o in outcomes)
    with pytest.raises(OSError):
        await reads.read(1)
