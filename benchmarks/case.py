"""One measurement, in a process of its own so CPU time and peak RSS are its alone.

`python -m benchmarks.case '{"kind": "engine"|"baseline", ...}'` prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from elasticsearch.helpers import async_streaming_bulk

from benchmarks.rss import FamilyRss, own_peak_rss_mib
from benchmarks.workload import SyntheticSource, synthetic_docs
from sluice.core.content_index import create_content_index
from sluice.core.engine.checkpoint import Checkpoint
from sluice.core.engine.content import ContentLoads
from sluice.core.engine.engine import SyncEngine, SyncRequest
from sluice.core.engine.settings import EngineSettings
from sluice.core.engine.snapshot import scan_index_ids
from sluice.core.engine.source import SourceDocument
from sluice.core.es import build_client


def _client(url: str) -> Any:
    return build_client({"host": url, "request_timeout": 120, "max_retries": 3})


async def _prepare(client: Any, index: str, fresh: bool) -> None:
    if fresh:
        await client.options(ignore_status=404).indices.delete(index=index)


async def _documents_of(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The documents a sync would write: synthetic ones, or a source's with their lazy
    content loaded (read before the clock starts)."""
    if not spec.get("source"):
        return list(synthetic_docs(spec["count"], spec["size"]))
    source = _source(spec)
    docs: list[dict[str, Any]] = []
    async for item in source.get_docs():
        if isinstance(item, SourceDocument):
            doc = dict(item.document)
            if item.content is not None:
                doc.update(await item.content())
        else:
            doc = dict(item)
        doc.setdefault("id", doc["_id"])
        docs.append(doc)
    await source.close()
    return docs


async def baseline(spec: dict[str, Any]) -> dict[str, Any]:
    """The official helper writing pre-built documents: the best the client does. With a
    `source`, the very documents that source's sync writes, into an index with the same
    mappings."""
    client = _client(spec["url"])
    index = spec["index"]
    await _prepare(client, index, spec.get("fresh", True))
    if spec.get("source"):
        await create_content_index(client, index)
    actions = []
    for doc in await _documents_of(spec):
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
    """One sync. With `checkpoint_file`, each confirmed checkpoint is written there (the
    job record's stand-in) and the ledger kept in `ledger_dir`; with `resume_file`, the sync
    continues from the checkpoint found there."""
    client = _client(spec["url"])
    index = spec["index"]
    await _prepare(client, index, spec.get("fresh", True))
    source = _source(spec)
    overrides = spec.get("settings", {})
    settings = EngineSettings(**overrides)
    saved = Path(spec["checkpoint_file"]) if spec.get("checkpoint_file") else None
    resume = None
    if spec.get("resume_file"):
        resume = Checkpoint.from_doc(json.loads(Path(spec["resume_file"]).read_text()))

    def confirmed(checkpoint: Checkpoint) -> None:
        if saved is not None:
            partial = saved.with_suffix(".part")
            partial.write_text(json.dumps(checkpoint.as_doc()))
            partial.replace(saved)

    sync = SyncEngine(
        client,
        settings,
        work_dir=Path(spec.get("work_dir", "/tmp")),
        ledger_dir=Path(spec["ledger_dir"]) if spec.get("ledger_dir") else None,
        on_checkpoint=confirmed if saved is not None or resume is not None else None,
    )
    cpu, wall, loop_cpu = time.process_time(), time.perf_counter(), time.thread_time()
    result = await sync.run(source, SyncRequest(index_name=index), resume=resume)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    loop_cpu = time.thread_time() - loop_cpu
    await client.close()
    c = result.counters
    return {
        "loop_cpu": loop_cpu,  # the event loop's thread: the engine and the source's own work
        "unchanged": c.unchanged,
        "extracted": c.extracted,
        "resumed_after": result.resumed_after,
        "files_read": getattr(source, "files_read", None),
        "written": c.indexed + c.updated,
        "deleted": c.deleted,
        "failed": c.failed,
        "bytes": c.bytes,
        "status": str(result.status),
        "error": result.error,
        "seconds": wall,
        "cpu": cpu,
    }


async def scan(spec: dict[str, Any]) -> dict[str, Any]:
    """Listing the index as a full sync does (ids, `_timestamp`, fingerprint): the floor of a
    no-change re-sync on this server."""
    client = _client(spec["url"])
    await client.indices.refresh(index=spec["index"])
    cpu, wall = time.process_time(), time.perf_counter()
    listed = 0
    async for page in scan_index_ids(client, spec["index"], page_size=10_000):
        listed += len(page)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await client.close()
    return {"written": listed, "seconds": wall, "cpu": cpu}


def main() -> None:
    spec = json.loads(sys.argv[1])
    kinds = {"baseline": baseline, "source": source_only, "engine": engine, "scan": scan}
    runner = kinds[spec["kind"]]
    with FamilyRss() as family:
        outcome = asyncio.run(runner(spec))
    outcome["peak_rss_mib"] = own_peak_rss_mib()
    outcome["peak_rss_family_mib"] = max(family.peak_mib, outcome["peak_rss_mib"])
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
