"""`sluice sync ID`: run one sync job of a connector here, in the foreground.

The job is recorded like any other (Kibana and `sluice job list` show it). A progress line is
drawn on a terminal; the summary follows, or one JSON object with `--json`. Exit status 0 only
when the job completed. Ctrl-C cancels the job; SIGTERM or a closed terminal (SIGHUP)
suspends it (a service resumes it).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import resource
import signal
import sys
import threading
from typing import Any

from sluice.cli.common import (
    CliError,
    add_config_option,
    add_job_type_options,
    add_json_option,
    command,
    document_id,
    load_cli_config,
    note,
    open_connection,
    when,
)
from sluice.core.engine.progress import ProgressBoard, ProgressSnapshot, SyncStatus
from sluice.core.processes import silence_terminal
from sluice.core.protocol.models import JobType

PROGRESS_INTERVAL = 0.25


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="run one sync job of a connector in the foreground",
        description=(
            "Run one sync job of a connector here and print a summary. Exit 0 only when "
            "the job completed. Ctrl-C cancels; SIGTERM suspends. A suspended job of the "
            "connector (or one whose worker went silent) is resumed rather than started "
            "anew; --new cancels it and starts a new job."
        ),
    )
    parser.add_argument("connector_id", metavar="CONNECTOR_ID", type=document_id("connector"))
    add_job_type_options(parser, JobType.FULL, JobType.INCREMENTAL)
    parser.add_argument(
        "--new",
        dest="new_job",
        action="store_true",
        help="cancel a suspended job of this connector and start a new one",
    )
    parser.add_argument(
        "--confirm-deletions",
        nargs="?",
        const=-1,
        type=_count,
        metavar="N",
        help=(
            "let this full sync delete what the deletion guard stopped (up to N documents; "
            "without N, as many as it finds)"
        ),
    )
    preview = parser.add_argument_group(
        "dry run", "show what the sync would do: nothing is written and no job is recorded"
    )
    preview.add_argument(
        "--dry-run", action="store_true", help="preview the sync instead of running it"
    )
    size = preview.add_mutually_exclusive_group()
    size.add_argument(
        "--sample",
        type=_count,
        default=None,
        metavar="N",
        help="source items the dry run reads (default: 100)",
    )
    size.add_argument(
        "--all",
        dest="read_all",
        action="store_true",
        help="the dry run reads the whole source (then it counts deletions too)",
    )
    add_config_option(parser)
    add_json_option(parser)
    parser.set_defaults(handler=sync_command)


def _count(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of documents") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the number of documents cannot be negative")
    return value


def confirmation(value: int | None) -> int | None:
    """`--confirm-deletions` as the engine takes it (-1: the flag alone, no limit)."""
    if value is None:
        return None
    return 2**62 if value < 0 else value


async def _job_to_resume(args: argparse.Namespace) -> str | None:
    """The suspended (or silent) job to continue, announced on stderr; with --new it is
    canceled instead, so it cannot run beside the new one later."""
    from sluice.core.protocol import discard_job, resumable_job

    async with open_connection(args) as connection:
        store = connection.store
        if await store.get_connector(args.connector_id) is None:
            return None  # the runner reports the unknown id in its usual words
        job = await resumable_job(store, args.connector_id)
        if job is None:
            return None
        was = job.status.value
        if args.new_job:
            await discard_job(store, job)
            note(f"canceled the {was} job {job.id}; starting a new one")
            return None
        note(
            f"resuming the {was} {job.job_type.value} job {job.id} "
            f"(started {when(job.started_at)}, {job.indexed_document_count} indexed so far); "
            "pass --new to start a new job instead"
        )
        return job.id


def peak_rss_mib() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@command
async def sync_command(args: argparse.Namespace) -> int:
    from sluice.core.engine.runner import run_connector_sync
    from sluice.core.engine.settings import EngineSettings
    from sluice.sources.registry import create_source

    config = load_cli_config(args)
    if (args.sample is not None or args.read_all) and not args.dry_run:
        raise CliError("--sample and --all go with --dry-run: add --dry-run", 2)
    if args.dry_run:
        return await _dry_run(args, config)
    resume_job_id = await _job_to_resume(args)
    board = ProgressBoard()
    cancel, suspend = threading.Event(), threading.Event()
    job_ids: list[str] = []
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, cancel.set)
    loop.add_signal_handler(signal.SIGTERM, lambda: (suspend.set(), cancel.set()))
    # A closed terminal (dropped SSH): suspend, and stop writing to the terminal that's gone.
    loop.add_signal_handler(
        signal.SIGHUP, lambda: (silence_terminal(), suspend.set(), cancel.set())
    )
    show_progress = not args.json and sys.stderr.isatty()
    ticker = asyncio.create_task(_draw_progress(board)) if show_progress else None
    try:
        result = await run_connector_sync(
            config.elasticsearch,
            args.connector_id,
            source_factory=functools.partial(create_source, extra=config.custom_sources),
            job_type=str(args.job_type),
            listener=board,
            cancel_event=cancel,
            suspend_event=suspend,
            on_job=job_ids.append,
            settings=EngineSettings.from_config(config),
            resume_job_id=resume_job_id,
            confirm_deletions=confirmation(args.confirm_deletions),
        )
    finally:
        if ticker is not None:
            ticker.cancel()
            sys.stderr.write("\r\033[K")
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)
        loop.remove_signal_handler(signal.SIGHUP)
    summary = _summary(args.connector_id, str(args.job_type), job_ids, result)
    if args.json:
        print(json.dumps(summary))
    else:
        _print_summary(summary)
    return 0 if result.status is SyncStatus.COMPLETED else 1


async def _dry_run(args: argparse.Namespace, config: Any) -> int:
    """Preview the sync: exit 0 when the preview ran (whatever it found), 1 when the source
    could not be read."""
    from sluice.core.engine.settings import EngineSettings
    from sluice.core.workflows.dry_run import DEFAULT_LIMIT, preview_connector, report_lines
    from sluice.sources.registry import create_source

    limit = None if args.read_all else (args.sample or DEFAULT_LIMIT)
    async with open_connection(args) as conn:  # its errors name the host and the file
        report = await preview_connector(
            conn.client,
            conn.store,
            args.connector_id,
            source_factory=functools.partial(create_source, extra=config.custom_sources),
            limit=limit,
            settings=EngineSettings.from_config(config),
        )
    if args.json:
        print(json.dumps(report.as_dict(), default=str))
    else:
        for line in report_lines(report):
            print(line)
    return 1 if report.error else 0


def _summary(connector_id: str, job_type: str, job_ids: list[str], result: Any) -> dict:
    from sluice.core.engine.failures import failure_log_path

    c = result.counters
    job_id = job_ids[0] if job_ids else None
    log = failure_log_path(job_id) if job_id else None
    return {
        "job_id": job_id,
        "connector_id": connector_id,
        "job_type": job_type,
        "status": str(result.status),
        "error": result.error,
        "notice": result.notice,
        "notices": list(result.notices),
        "extracted": c.extracted,
        "indexed": c.indexed,
        "updated": c.updated,
        "deleted": c.deleted,
        "skipped": c.skipped,
        "unchanged": c.unchanged,
        "failed": c.failed,
        "bytes": c.bytes,
        "duration_seconds": round(result.elapsed, 3),
        "docs_per_second": round(result.docs_per_second, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "failure_log": str(log) if log is not None and log.exists() else None,
        "reconciliation": (
            result.reconciliation.as_doc() if result.reconciliation is not None else None
        ),
        "reconciled": result.reconciliation.line() if result.reconciliation is not None else None,
        "deletion_guard": (
            result.deletion_guard.as_doc() if result.deletion_guard is not None else None
        ),
    }


def _print_summary(s: dict) -> None:
    took = s["duration_seconds"]
    took_words = f"{took:.2f} s" if took < 1 else f"{took:.1f} s"  # a small sync is not "0.0 s"
    print(f"job {s['job_id']} ({s['job_type']}): {s['status']} in {took_words}")
    print(
        f"  {s['indexed']} indexed, {s['updated']} updated, {s['unchanged']} unchanged, "
        f"{s['deleted']} deleted, {s['skipped']} skipped, {s['failed']} failed — "
        f"{s['docs_per_second']:.0f} docs/s, "
        f"{s['bytes'] / 1048576:.1f} MiB, peak RSS {s['peak_rss_mib']:.0f} MiB"
    )
    if s["reconciled"]:
        print(f"  index check: {s['reconciled']}")
    if s["error"]:
        print(f"  error: {s['error']}")
    if s["notice"]:
        print(f"  {s['notice']}")
    for notice in s["notices"]:
        print(f"  note: {notice}")
    if s["failure_log"]:
        print(f"  failed documents: {s['failure_log']}")


async def _draw_progress(board: ProgressBoard) -> None:
    while True:
        await asyncio.sleep(PROGRESS_INTERVAL)
        snap = board.snapshot
        if snap is None:
            continue
        sys.stderr.write("\r\033[K" + progress_line(snap)[:200])
        sys.stderr.flush()


def progress_line(snap: ProgressSnapshot) -> str:
    """One line of progress; a stall (bulk requests being retried) comes first."""
    c = snap.counters
    line = (
        f"{snap.phase}: {c.indexed + c.updated} written, {c.unchanged} unchanged, "
        f"{c.deleted} deleted, {c.skipped} skipped, {c.failed} failed — "
        f"{snap.docs_per_second:.0f} docs/s, "
        f"{snap.elapsed:.0f} s"
    )
    if snap.deleting:
        done, total = snap.progress
        line += f" — deleted {done} of {total} stale"
    if snap.eta_seconds is not None:
        line += f", ETA {snap.eta_seconds:.0f} s"
    if snap.stalled is not None:
        line = f"{snap.stalled.message()} | {line}"
    elif snap.waiting is not None:
        line = f"{snap.waiting.message()} | {line}"
    return line
