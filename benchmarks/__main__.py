"""`make bench`: print the engine's figures next to a raw bulk baseline measured in the same run.

Targets: the null bulk endpoint (measures Sluice itself) and the local Elasticsearch-compatible
server at SLUICE_ES_URL (real behaviour, but slow). Every measurement runs in a fresh process
(`benchmarks.case`) so CPU time and peak RSS are its own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import changes, key_latency, object_store, startup
from benchmarks.null_bulk import NullBulkEndpoint
from benchmarks.workload import generate_tree

ROOT = Path(__file__).resolve().parent.parent
INDEX = "sluice-bench"


OPTIONS = {"repeat": 2}  # every figure is the best of this many runs (the machine is noisy)


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """The fastest of `OPTIONS["repeat"]` runs of one case, each in a fresh process."""
    runs = [_measure_once(spec) for _ in range(OPTIONS["repeat"])]
    return min(runs, key=lambda r: r["seconds"])


def _measure_once(spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.case", json.dumps(spec)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark case failed: {spec}\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def figures(result: dict[str, Any], size: int) -> dict[str, float]:
    docs, seconds = result["written"], max(result["seconds"], 1e-9)
    return {
        "docs_s": docs / seconds,
        "mb_s": docs * size / seconds / 1e6,
        "cpu_10k": result["cpu"] / max(docs, 1) * 10_000,
        "rss": result["peak_rss_mib"],
    }


def row(label: str, f: dict[str, float], ratio: float | None = None) -> str:
    tail = f"  {ratio:5.2f}×" if ratio is not None else ""
    return (
        f"  {label:<46} {f['docs_s']:>8,.0f} docs/s {f['mb_s']:>7.1f} MB/s "
        f"{f['cpu_10k']:>6.2f} CPU s/10k {f['rss']:>6.0f} MiB{tail}"
    )


def best_baseline(url: str, count: int, size: int, grid: list[dict[str, int]]) -> tuple[dict, dict]:
    best: tuple[dict, dict] | None = None
    for settings in grid:
        result = measure(
            {
                "kind": "baseline",
                "url": url,
                "index": INDEX,
                "count": count,
                "size": size,
                **settings,
            }
        )
        if best is None or result["seconds"] < best[0]["seconds"]:
            best = (result, settings)
    assert best is not None
    return best


def compare(title: str, url: str, count: int, size: int, tree: Path | None, tune: bool) -> None:
    print(f"\n{title}: {count:,} documents of {size} B")
    grid = [
        {"chunk_size": 500, "concurrency": 1},
        {"chunk_size": 500, "concurrency": 4},
        {"chunk_size": 1000, "concurrency": 4},
    ]
    base, base_settings = best_baseline(url, count, size, grid)
    base_f = figures(base, size)
    chunk, tasks = base_settings["chunk_size"], base_settings["concurrency"]
    print(row(f"raw bulk helper (chunk {chunk}, {tasks} tasks)", base_f))
    variants: list[dict[str, int]] = [{}]
    if tune:
        variants += [
            {"chunk_size": 1000},
            {"max_concurrency": 2},
            {"max_concurrency": 8},
            {"chunk_size": 250, "max_concurrency": 8},
        ]
    for overrides in variants:
        spec = {"kind": "engine", "url": url, "index": INDEX, "count": count, "size": size}
        result = measure({**spec, "settings": overrides})
        f = figures(result, size)
        tuned = ", ".join(f"{k}={v}" for k, v in overrides.items())
        label = "sluice engine, synthetic" + (f" ({tuned})" if tuned else "")
        print(row(label, f, f["docs_s"] / base_f["docs_s"]))
    if tree is not None:
        # The dir source is bound by reading files, so its ratio is to the source alone.
        spec = {"url": url, "index": INDEX, "source": "dir", "directory": str(tree)}
        alone = figures(measure({**spec, "kind": "source"}), size)
        print(row("dir source alone (no sink)", alone))
        f = figures(measure({**spec, "kind": "engine"}), size)
        print(row("sluice engine, dir source", f, f["docs_s"] / alone["docs_s"]))


def sharepoint(files: int, metadata_files: int) -> None:
    """SharePoint Online through the engine into the null endpoint, the tenant on the fake
    Microsoft cloud of tests/fakes (in this process; the sync in its own): files with their
    text downloaded and extracted, then a big library read for its metadata alone."""
    from tests.fakes.fake_microsoft import FakeMicrosoft
    from tests.sources.sharepoint_tenant import build_tenant

    print("\nSharePoint Online (fake tenant on loopback, null bulk endpoint)")
    with FakeMicrosoft() as fake, NullBulkEndpoint() as endpoint:
        tenant = build_tenant(fake)
        for label, count, extract in (
            (f"{files:,} files, text downloaded and extracted", files, True),
            (f"{metadata_files:,} files, metadata only", metadata_files, False),
        ):
            drive = fake.add_drive(tenant.site, f"Bench {count}")
            fake.add_synthetic_files(drive, count, size=512)
            configuration = tenant.config(site_collections="marketing", extract_text=extract)
            spec = {
                "kind": "engine",
                "url": endpoint.url,
                "index": INDEX,
                "source": "sharepoint_online",
                "configuration": configuration,
            }
            result = _measure_once(spec)
            tenant.site.drives.remove(drive)
            if result["status"] != "completed":
                raise SystemExit(f"SharePoint benchmark failed: {result['error']}")
            print(
                f"  {label:<46} {result['written'] / result['seconds']:>8,.0f} docs/s "
                f"{result['peak_rss_mib']:>6.0f} MiB peak RSS ({result['written']:,} documents)"
            )


def memory(counts: list[int]) -> None:
    print("\nPeak RSS of a full sync with stale deletion (null endpoint, 1% stale ids)")
    rss = {}
    for count in counts:
        with NullBulkEndpoint(existing=count + count // 100) as endpoint:
            spec = {
                "kind": "engine",
                "url": endpoint.url,
                "index": INDEX,
                "count": count,
                "size": 1024,
                "fresh": False,
            }
            result = _measure_once(spec)
        rss[count] = result["peak_rss_mib"]
        print(
            f"  {count:>9,} indexed: {result['peak_rss_mib']:6.1f} MiB peak RSS, "
            f"{result['deleted']:,} deleted, {result['written'] / result['seconds']:,.0f} docs/s"
        )
    if len(counts) > 1:
        growth = rss[counts[-1]] - rss[counts[0]]
        print(f"  growth {counts[0]:,} → {counts[-1]:,}: {growth:+.1f} MiB (goal ≤ 50 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--null-docs", type=int, default=100_000)
    parser.add_argument("--es-docs", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=1024, help="document size in bytes")
    parser.add_argument("--files", type=int, default=5_000, help="files in the dir-source tree")
    parser.add_argument("--memory", default="100000,1000000", help="index sizes, comma-separated")
    parser.add_argument("--spo-files", type=int, default=5_000, help="SharePoint files with text")
    parser.add_argument(
        "--spo-metadata-files", type=int, default=100_000, help="SharePoint files, metadata only"
    )
    parser.add_argument("--s3-objects", type=int, default=5_000, help="S3 objects with text")
    parser.add_argument(
        "--s3-metadata-objects", type=int, default=50_000, help="S3 objects, metadata only"
    )
    parser.add_argument(
        "--change-files", type=int, default=20_000, help="files for re-sync and resume figures"
    )
    parser.add_argument("--rows", type=int, default=50_000, help="table rows for re-sync")
    parser.add_argument("--tune", action="store_true", help="also try other engine settings")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--repeat", type=int, default=2, help="runs per figure (the best)")
    parser.add_argument(
        "--startup-only", action="store_true", help="only the start-up and key figures"
    )
    args = parser.parse_args()
    OPTIONS["repeat"] = max(1, args.repeat)
    if args.quick:
        args.null_docs, args.es_docs, args.files, args.memory = 20_000, 2_000, 500, "10000,100000"
        args.spo_files, args.spo_metadata_files = 1_000, 10_000
        args.s3_objects, args.s3_metadata_objects = 1_000, 5_000
        args.change_files, args.rows = 20_000, 5_000  # smaller: a sync ends before a checkpoint
        OPTIONS["repeat"] = 1
    print(f"Sluice benchmarks ({os.cpu_count()} CPUs)")
    startup.report(runs=3 if args.quick else 5)
    es_url = os.environ.get("SLUICE_ES_URL")
    if es_url:
        key_latency.report(es_url, files=args.files, size=args.size)
    if args.startup_only:
        return
    with tempfile.TemporaryDirectory(prefix="sluice-bench-") as tmp:
        tree = generate_tree(Path(tmp) / "tree", args.files, args.size)
        with NullBulkEndpoint() as endpoint:
            compare("Null bulk endpoint", endpoint.url, args.null_docs, args.size, tree, args.tune)
            changes.engine_cpu(measure, endpoint.url, args.null_docs)
        es_url = os.environ.get("SLUICE_ES_URL")
        if es_url:
            compare(f"Local server {es_url}", es_url, args.es_docs, args.size, tree, args.tune)
            measure_cleanup(es_url)
            big = generate_tree(Path(tmp) / "big", args.change_files, args.size)
            changes.dir_vs_raw(measure, es_url, big)
            pg_url = os.environ.get("SLUICE_PG_URL")
            changes.resync(_measure_once, es_url, big, pg_url, args.rows)
            changes.resume_after_kill(_measure_once, es_url, big, args.change_files)
            measure_cleanup(es_url, changes.INDEX)
        else:
            print("\nSLUICE_ES_URL is not set: skipping the local-server figures")
    sharepoint(args.spo_files, args.spo_metadata_files)
    object_store.report(_measure_once, args.s3_objects, args.s3_metadata_objects)
    memory([int(n) for n in args.memory.split(",")])


def measure_cleanup(url: str, index: str = INDEX) -> None:
    import asyncio

    from sluice.core.es import build_client

    async def drop() -> None:
        client = build_client({"host": url})
        await client.options(ignore_status=404).indices.delete(index=index)
        await client.close()

    asyncio.run(drop())


if __name__ == "__main__":
    main()
