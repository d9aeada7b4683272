"""A stand-in for one `sluice run` instance, for the multi-process tests.

    python -m tests.core.protocol.worker --backend index --prefix P --connectors a,b \
        --hostname host-A --log /tmp/a.log [--hang] [--start-at EPOCH]

Elasticsearch settings come as JSON in SLUICE_TEST_ES_SETTINGS. It polls the queue of the
given connectors, claims what it can, "runs" each job (heartbeat, short work, complete) and
writes `claimed <job>` / `completed <job>` lines to its log. It exits after the queue stayed
empty for `--idle-exit` seconds. With `--hang` it stops after its first claim and sleeps
(to be killed mid-job).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

from sluice.core.es import build_client
from sluice.core.protocol import SyncStats, open_store, pending_jobs


async def run(args: argparse.Namespace) -> None:
    settings = json.loads(os.environ["SLUICE_TEST_ES_SETTINGS"])
    client = build_client(settings)
    store = await open_store(client, prefer=args.backend, index_prefix=args.prefix)
    connector_ids = args.connectors.split(",")
    if args.start_at:
        await asyncio.sleep(max(0.0, args.start_at - time.time()))
    idle_since = time.monotonic()
    with open(args.log, "a", buffering=1) as log:
        try:
            while time.monotonic() - idle_since < args.idle_exit:
                queue = await pending_jobs(store, connector_ids)
                if queue:
                    idle_since = time.monotonic()
                for job in queue:
                    if not await store.claim_job(job.id, args.hostname):
                        continue
                    log.write(f"claimed {job.id}\n")
                    await store.update_job_stats(job.id, SyncStats(indexed_document_count=1))
                    if args.hang:
                        await asyncio.sleep(3600)
                    await asyncio.sleep(args.work)
                    await store.complete_job(job.id, SyncStats(indexed_document_count=1))
                    log.write(f"completed {job.id}\n")
                await asyncio.sleep(0.05)
        finally:
            await client.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["index", "api"], required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--connectors", required=True)
    parser.add_argument("--hostname", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--work", type=float, default=0.05)
    parser.add_argument("--idle-exit", type=float, default=2.0)
    parser.add_argument("--start-at", type=float, default=0.0)
    parser.add_argument("--hang", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
