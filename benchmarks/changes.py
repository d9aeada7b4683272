"""Figures of issue 18, each against its baseline in the same run: a no-change full re-sync
vs the first sync (a folder and a table), a resume after kill -9 vs the whole source, and
the `dir` sync vs a raw bulk of the very same documents, with CPU per document and peak RSS
of the process with its children."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

Measure = Callable[[dict[str, Any]], dict[str, Any]]
ROOT = Path(__file__).resolve().parent.parent
INDEX = "sluice-bench-changes"


def _line(label: str, result: dict[str, Any], first: dict[str, Any] | None = None) -> str:
    tail = ""
    if first is not None:
        tail = f"  {result['seconds'] / max(first['seconds'], 1e-9):6.1%} of the first sync's time"
    return (
        f"  {label:<28} {result['seconds']:7.2f} s  sent {result['written']:>7,}  "
        f"unchanged {result['unchanged']:>7,}{tail}"
    )


def resync(measure: Measure, url: str, tree: Path, pg_url: str | None, rows: int) -> None:
    """First full sync, then a full re-sync with nothing changed, in fresh processes."""
    print(f"\nNo-change full re-sync ({url})")
    cases: list[tuple[str, dict[str, Any], Callable[[], None] | None]] = [
        (
            f"folder of {sum(1 for _ in tree.rglob('*.*')):,} files",
            {"source": "dir", "directory": str(tree)},
            None,
        )
    ]
    if pg_url:
        configuration, drop = _pg_table(pg_url, rows)
        cases.append((f"PostgreSQL table of {rows:,} rows", configuration, drop))
    else:
        print("  SLUICE_PG_URL is not set: no table case")
    for label, source, drop in cases:
        try:
            spec = {"kind": "engine", "url": url, "index": INDEX, **source}
            first = measure({**spec, "fresh": True})
            again = measure({**spec, "fresh": False})
            print(f"  {label}")
            print(_line("first sync", first))
            print(_line("no-change re-sync", again, first))
            listing = measure({"kind": "scan", "url": url, "index": INDEX})
            rest = again["seconds"] - listing["seconds"]
            print(
                f"  {'':<28} of which listing the index: {listing['seconds']:.2f} s "
                f"({listing['written'] / max(listing['seconds'], 1e-9):,.0f} ids/s on this "
                f"server); the rest {rest:.2f} s = {rest / first['seconds']:.1%} of the first"
            )
            if again.get("files_read") is not None:
                print(f"  {'':<28} files read again: {again['files_read']:,}")
        finally:
            if drop is not None:
                drop()


def _pg_table(url: str, rows: int) -> tuple[dict[str, Any], Callable[[], None]]:
    """A fresh database with one table of `rows` rows; the source's settings and a dropper."""
    import asyncpg

    parts = urlparse(url)
    name = f"sluice_bench_{uuid.uuid4().hex[:8]}"

    async def make() -> None:
        admin = await asyncpg.connect(url)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        conn = await asyncpg.connect(
            host=parts.hostname,
            port=parts.port,
            user=parts.username,
            password=parts.password,
            database=name,
        )
        await conn.execute(
            "CREATE TABLE items (id int PRIMARY KEY, title text, body text, price numeric(8,2),"
            " seen date); INSERT INTO items SELECT g, 'item ' || g, repeat('word ', 150),"
            f" g * 1.5, '2026-01-01'::date + (g % 300) FROM generate_series(1, {rows}) g"
        )
        await conn.close()

    async def drop_database() -> None:
        admin = await asyncpg.connect(url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    asyncio.run(make())
    configuration = {
        "host": parts.hostname,
        "port": parts.port,
        "username": parts.username,
        "password": parts.password,
        "database": name,
        "tables": "*",
    }
    return {"source": "postgresql", "configuration": configuration}, lambda: asyncio.run(
        drop_database()
    )


def _killed_after_checkpoint(spec: dict[str, Any], saved: Path) -> dict[str, Any] | None:
    """Start a sync in its own process and kill -9 it at a random moment after its first
    checkpoint; the checkpoint, None when it ended first."""
    saved.unlink(missing_ok=True)
    victim = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.case", json.dumps({**spec, "fresh": True})],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not saved.exists() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(random.uniform(0.0, 1.0))
    if victim.poll() is not None or not saved.exists():
        victim.wait()
        return None
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    return dict(json.loads(saved.read_text()))


def resume_after_kill(measure: Measure, url: str, tree: Path, total: int) -> None:
    """kill -9 a sync after a checkpoint, then resume it; and, as the baseline, kill it
    again and start it over (what a job without checkpoints does)."""
    print(f"\nResume after kill -9 ({total:,} files, checkpoints every second)")
    with tempfile.TemporaryDirectory(prefix="sluice-bench-resume-") as tmp:
        saved = Path(tmp) / "checkpoint.json"
        spec = {
            "kind": "engine",
            "url": url,
            "index": INDEX,
            "source": "dir",
            "directory": str(tree),
            "ledger_dir": str(Path(tmp) / "ledger"),
            "checkpoint_file": str(saved),
            "settings": {"checkpoint_interval": 1.0},
        }
        checkpoint = _killed_after_checkpoint(spec, saved)
        if checkpoint is None:
            print("  the sync ended before a checkpoint: use a bigger folder (--files)")
            return
        resumed = measure({**spec, "fresh": False, "resume_file": str(saved)})
        before = checkpoint["counters"]  # the counters carried over from the killed run
        read = resumed["extracted"] - checkpoint["items"]
        sent = resumed["written"] - before.get("indexed", 0) - before.get("updated", 0)
        unchanged = resumed["unchanged"] - before.get("unchanged", 0)
        print(
            f"  resumed from its checkpoint at {checkpoint['items']:,} of {total:,}: read "
            f"{read:,} files ({read / total:.0%}; {resumed['files_read']:,} files' content), "
            f"sent {sent:,}, {unchanged:,} unchanged (written before the kill), "
            f"{resumed['seconds']:.2f} s, {resumed['status']}"
        )
        checkpoint = _killed_after_checkpoint(spec, saved)
        if checkpoint is None:
            return
        over = {**spec, "fresh": False, "checkpoint_file": None, "ledger_dir": None}
        restart = measure(over)
        print(
            f"  baseline, killed at {checkpoint['items']:,} and started over: read "
            f"{restart['extracted']:,} files again ({restart['files_read'] or 0:,} files' "
            f"content: fingerprints skip the rest), {restart['seconds']:.2f} s"
        )


def dir_vs_raw(measure: Measure, url: str, tree: Path) -> None:
    """The `dir` sync against the official helper bulk-writing the very same documents."""
    print(f"\n`dir` sync vs a raw bulk of the same documents ({url})")
    spec = {"url": url, "index": INDEX, "source": "dir", "directory": str(tree)}
    raw = min(
        (
            measure({**spec, "kind": "baseline", **settings})
            for settings in (
                {"chunk_size": 500, "concurrency": 4},
                {"chunk_size": 1000, "concurrency": 4},
            )
        ),
        key=lambda r: r["seconds"],
    )
    synced = measure({**spec, "kind": "engine"})
    docs = synced["written"]
    print(f"  raw bulk helper           {raw['written'] / raw['seconds']:>8,.0f} docs/s")
    print(
        f"  sluice engine, dir source {docs / synced['seconds']:>8,.0f} docs/s  "
        f"{docs / synced['seconds'] / (raw['written'] / raw['seconds']):.2f}× (goal ≥ 0.8×)"
    )
    print(
        f"  CPU per document: {synced['cpu'] / docs * 1000:.3f} ms in all (walk, reads, text), "
        f"{synced['loop_cpu'] / docs * 1000:.3f} ms on the engine's thread (goal ≤ 0.1 ms)"
    )
    print(
        f"  peak RSS {synced['peak_rss_mib']:.0f} MiB, with child processes "
        f"{synced['peak_rss_family_mib']:.0f} MiB"
    )


def engine_cpu(measure: Measure, url: str, count: int) -> None:
    """The engine alone (a synthetic source, nothing to extract), CPU per document."""
    result = measure({"kind": "engine", "url": url, "index": INDEX, "count": count, "size": 1024})
    print(
        f"\nEngine CPU per document, synthetic source into the null endpoint: "
        f"{result['cpu'] / result['written'] * 1000:.3f} ms (goal ≤ 0.1 ms), "
        f"peak RSS with children {result['peak_rss_family_mib']:.0f} MiB"
    )
