"""How fast the TUI answers a key while the fastest sync it can run is going: the dashboard of
a `dir` sync (a generated tree, the engine in its worker thread) against the local server,
with Tab pressed every 100 ms; each press is timed until the focus has moved.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.workload import generate_tree


async def _connector(url: str, tree: Path, index: str) -> str:
    from sluice.core.es import build_client
    from sluice.core.protocol import open_store
    from sluice.core.workflows import NewConnector, create_connector
    from sluice.sources.registry import get_source_class
    from sluice.sources.schema import validate_configuration

    source = get_source_class("dir")
    configuration = source.default_configuration()
    configuration["directory"]["value"] = str(tree)
    client = build_client({"host": url})
    try:
        store = await open_store(client)
        created = await create_connector(
            client,
            store,
            NewConnector(
                service_type="dir",
                name=f"bench keys {index}",
                index_name=index,
                configuration=configuration,
                given=["directory"],
                features=source.features(),
            ),
            validate=validate_configuration,
        )
        return created.connector.id
    finally:
        await client.close()


async def _cleanup(url: str, connector_id: str, index: str) -> None:
    from sluice.core.es import build_client
    from sluice.core.protocol import open_store

    client = build_client({"host": url})
    try:
        store = await open_store(client)
        await store.delete_connector(connector_id)
        await client.options(ignore_status=404).indices.delete(index=index)
    finally:
        await client.close()


async def _tab_answered_in(app: Any, limit: float = 5.0) -> float:
    """Seconds from a Tab key arriving until the focus has moved (what a user sees)."""
    from textual import events

    before = app.focused
    start = time.perf_counter()
    app.post_message(events.Key("tab", None))
    while app.focused is before and time.perf_counter() - start < limit:
        await asyncio.sleep(0.005)
    return time.perf_counter() - start


async def measure(url: str, files: int, size: int) -> dict[str, Any]:
    from sluice.core.workflows.local_sync import LocalSync
    from sluice.sources.registry import create_source
    from sluice.tui.app import SluiceApp
    from sluice.tui.feeds import LocalSyncFeed
    from sluice.tui.screens.dashboard import DashboardScreen

    index = f"sluice-bench-keys-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="sluice-keys-") as tmp:
        tree = generate_tree(Path(tmp) / "tree", files, size)
        connector_id = await _connector(url, tree, index)
        try:
            app = SluiceApp(str(Path(tmp) / "config.yml"), start_over=True, test_mode=True)
            times: list[float] = []
            async with app.run_test(size=(100, 32)):
                run = LocalSync({"host": url}, connector_id, source_factory=create_source)
                dashboard = DashboardScreen(LocalSyncFeed(run, "bench"))
                await app.push_screen(dashboard)
                started = time.perf_counter()
                # measured while documents flow, not while the screen and engine start
                while (
                    dashboard.feed.poll().snapshot.counters.indexed == 0
                    and time.perf_counter() - started < 60
                ):
                    await asyncio.sleep(0.05)
                while not dashboard.feed.poll().finished and time.perf_counter() - started < 300:
                    times.append(await _tab_answered_in(app))
                    await asyncio.sleep(0.1)
                reading = dashboard.feed.poll()
                synced = reading.snapshot.counters.indexed
                seconds = time.perf_counter() - started
        finally:
            await _cleanup(url, connector_id, index)
    times.sort()
    return {
        "presses": len(times),
        "p50_ms": statistics.median(times) * 1000 if times else 0.0,
        "p95_ms": times[int(len(times) * 0.95) - 1] * 1000 if times else 0.0,
        "max_ms": times[-1] * 1000 if times else 0.0,
        "docs": synced,
        "docs_s": synced / max(seconds, 1e-9),
    }


def report(url: str, files: int = 20_000, size: int = 1024) -> None:
    result = asyncio.run(measure(url, files, size))
    print(
        f"\nKeys while a dir sync runs in the TUI ({result['docs']:,} files at "
        f"{result['docs_s']:,.0f} docs/s, {result['presses']} presses of Tab):\n"
        f"  answered in p50 {result['p50_ms']:5.1f} ms, p95 {result['p95_ms']:5.1f} ms, "
        f"max {result['max_ms']:5.1f} ms   (goal ≤ 100 ms)"
    )
