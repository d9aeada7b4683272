"""One measurement, in a process of its own so CPU time and peak RSS are its alone.

`python -m benchmarks.case '{"kind": "engine"|"baseline", ...}'` prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from elasticsearch.helpers import async_streaming_bulk

from benchmarks.workload import SyntheticSource, synthetic_docs
from sluice.core.engine.content import ContentLoads
from sluice.core.engine.engine import SyncEngine, SyncRequest
from sluice.core.engine.settings import EngineSettings
from sluice.core.engine.source import SourceDocument
from sluice.core.es import build_client


def _client(url: str) -> Any:
    return build_client({"host": url, "request_timeout": 120, "max_retries": 3})


async def _prepare(client: Any, index: str, fresh: bool) -> None:
    if fresh:
        await client.options(ignore_status=404).indices.delete(index=index)


async def baseline(spec: dict[str, Any]) -> dict[str, Any]:
    """The official helper writing pre-built documents: the best the client does."""
    client = _client(spec["url"])
    index = spec["index"]
    await _prepare(client, index, spec.get("fresh", True))
    actions = []
    for doc in synthetic_docs(spec["count"], spec["size"]):
        doc_id = doc.pop("_id")
        actions.append({"_index": index, "_id": doc_id, "_source": doc})
    chunk, workers = spec.get("chunk_size", 500), spec.get("concurrency", 1)

    async def worker(part: list[dict[str, Any]]) -> int:
        done = 0
        async for ok, _ in async_streaming_bulk(
            client, part, chunk_size=chunk, max_chunk_bytes=3 * 1024 * 1024, raise_on_error=False
        ):
            done += ok
        return done

    cpu, wall = time.process_time(), time.perf_counter()
    parts = [actions[i::workers] for i in range(workers)]
    written = sum(await asyncio.gather(*(worker(p) for p in parts)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await client.close()
    return {"written": written, "seconds": wall, "cpu": cpu}


def _source(spec: dict[str, Any]) -> Any:
    if spec.get("source") == "dir":
        from sluice.sources.registry import create_source  # benchmarks sit above core and sources

        return create_source("dir", {"directory": spec["directory"]})
    if spec.get("source") and "configuration" in spec:
        from sluice.sources.registry import create_source

        return create_source(spec["source"], spec["configuration"])
    return SyntheticSource(spec["count"], spec["size"])


async def source_only(spec: dict[str, Any]) -> dict[str, Any]:
    """The source alone, documents dropped (lazy content loaded as the engine would): the
    most any sync of it can reach."""
    source = _source(spec)
    cpu, wall = time.process_time(), time.perf_counter()
    written = 0
    loads = ContentLoads()

    async def drop(fields: Any, error: Exception | None) -> None:
        return None

    async for item in source.get_docs():
        written += 1
        if isinstance(item, SourceDocument) and item.content is not None:
            await loads.submit(item.content, drop)
    await loads.drain()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await source.close()
    return {"written": written, "seconds": wall, "cpu": cpu}


async def engine(spec: dict[str, Any]) -> dict[str, Any]:
    client = _client(spec["url"])
    index = spec["index"]
    await _prepare(client, index, spec.get("fresh", True))
    source = _source(spec)
    overrides = spec.get("settings", {})
    settings = EngineSettings(**overrides)
    cpu, wall = time.process_time(), time.perf_counter()
    result = await SyncEngine(client, settings, work_dir=Path(spec.get("work_dir", "/tmp"))).run(
        source, SyncRequest(index_name=index)
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await client.close()
    c = result.counters
    return {
        "written": c.indexed + c.updated,
        "deleted": c.deleted,
        "failed": c.failed,
        "bytes": c.bytes,
        "status": str(result.status),
        "error": result.error,
        "seconds": wall,
        "cpu": cpu,
    }


def main() -> None:
    spec = json.loads(sys.argv[1])
    runner = {"baseline": baseline, "source": source_only, "engine": engine}[spec["kind"]]
    outcome = asyncio.run(runner(spec))
    outcome["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
