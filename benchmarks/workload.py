"""The documents benchmarks write: synthetic ones of a given size, or a generated folder."""

from __future__ import annotations

import random
import string
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

TIMESTAMP = "2026-01-01T00:00:00+00:00"


def _bodies(size: int, variants: int = 64) -> list[str]:
    rng = random.Random(42)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(500)]
    bodies = []
    for _ in range(variants):
        text: list[str] = []
        length = 0
        while length < size:
            word = rng.choice(words)
            text.append(word)
            length += len(word) + 1
        bodies.append(" ".join(text)[:size])
    return bodies


def synthetic_docs(count: int, size: int) -> Iterator[dict[str, Any]]:
    """`count` documents of about `size` bytes of JSON each (ids `doc-0`...)."""
    bodies = _bodies(max(size - 120, 16))
    for n in range(count):
        yield {
            "_id": f"doc-{n}",
            "title": f"Document {n}",
            "body": bodies[n % len(bodies)],
            "n": n,
            "_timestamp": TIMESTAMP,
        }


class SyntheticSource:
    """A source yielding `synthetic_docs`, as a connector source would."""

    service_type = "synthetic"

    def __init__(self, count: int, size: int) -> None:
        self.count = count
        self.size = size

    async def get_docs(self, filtering: Mapping[str, Any] | None = None) -> AsyncIterator[dict]:
        for doc in synthetic_docs(self.count, self.size):
            yield doc

    def supports_incremental_sync(self) -> bool:
        return False

    async def close(self) -> None:
        pass


def generate_tree(root: Path, files: int, size: int) -> Path:
    """A folder tree of `files` text files of `size` bytes (100 per folder)."""
    bodies = _bodies(size)
    for n in range(files):
        folder = root / f"dir-{n // 100:04d}"
        if n % 100 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file-{n:06d}.txt").write_text(bodies[n % len(bodies)])
    return root
