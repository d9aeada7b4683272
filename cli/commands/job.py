"""`sluice job ...`: queue, list, show and cancel sync jobs, and read their failure logs.

`job start` only queues a `pending` on-demand job; whichever service runs the connector
(`sluice run`, or Elastic's own) picks it up.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

from sluice.cli.common import (
    CliError,
    IdFriendlyParser,
    add_config_option,
    add_job_type_options,
    add_json_option,
    command,
    document_id,
    masked_configuration,
    note,
    open_connection,
    print_fields,
    print_json,
    print_table,
    when,
)
from sluice.core.invocation import sluice_command
from sluice.core.protocol import ConnectorNotFound, JobNotFound, JobStatus, JobType, SyncJob

CONNECTOR_ID = document_id("connector")
JOB_ID = document_id("sync job")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "job",
        help="start, list, show and cancel sync jobs",
        description="Sync jobs of connectors (the .elastic-connectors-sync-jobs queue).",
    )
    actions = parser.add_subparsers(
        dest="job_action", metavar="ACTION", required=True, parser_class=IdFriendlyParser
    )

    start = actions.add_parser("start", help="queue a sync job for a connector")
    start.add_argument("connector_id", metavar="ID", type=CONNECTOR_ID)
    add_job_type_options(start, JobType.FULL, JobType.INCREMENTAL, JobType.ACCESS_CONTROL)
    add_json_option(start)
    add_config_option(start)
    start.set_defaults(handler=start_job)

    listing = actions.add_parser("list", help="list a connector's jobs, newest first")
    listing.add_argument("connector_id", metavar="ID", type=CONNECTOR_ID)
    listing.add_argument("--status", choices=[s.value for s in JobStatus])
    listing.add_argument(
        "--limit", type=int, default=20, metavar="N", help="at most N jobs (default 20)"
    )
    add_json_option(listing)
    add_config_option(listing)
    listing.set_defaults(handler=list_jobs)

    show = actions.add_parser("show", help="show one job (secrets masked)")
    show.add_argument("job_id", metavar="JOB", type=JOB_ID)
    add_json_option(show)
    add_config_option(show)
    show.set_defaults(handler=show_job)

    failures = actions.add_parser(
        "failures", help="documents a job could not sync (its failure log; read or export)"
    )
    failures.add_argument("job_id", metavar="JOB", type=JOB_ID)
    failures.add_argument("--limit", type=int, default=50, help="rows to show (default 50)")
    failures.add_argument(
        "--output",
        metavar="FILE",
        help="export the whole log: CSV if FILE ends in .csv, else NDJSON",
    )
    add_json_option(failures)
    add_config_option(failures)  # accepted like everywhere; the logs are local files
    failures.set_defaults(handler=job_failures)

    cancel = actions.add_parser("cancel", help="cancel a job")
    cancel.add_argument("job_id", metavar="JOB", type=JOB_ID)
    add_json_option(cancel)
    add_config_option(cancel)
    cancel.set_defaults(handler=cancel_job)


@command
async def start_job(args: argparse.Namespace) -> int:
    async with open_connection(args) as conn:
        job_id = await conn.store.create_job(args.connector_id, JobType(args.job_type))
    note(
        f"queued a {JobType(args.job_type).value} sync; a running connector service "
        f"(`{sluice_command()} run`, or Elastic's) picks it up"
    )
    if args.json:
        print_json({"id": job_id, "connector_id": args.connector_id, "status": "pending"})
        return 0
    print(job_id)
    return 0


def _summary(job: SyncJob) -> dict[str, Any]:
    d = job.doc
    return {
        "id": job.id,
        "connector_id": job.connector_id,
        "job_type": d.get("job_type"),
        "trigger_method": d.get("trigger_method"),
        "status": d.get("status"),
        "created_at": d.get("created_at"),
        "started_at": d.get("started_at"),
        "completed_at": d.get("completed_at"),
        "indexed_document_count": job.indexed_document_count,
        "deleted_document_count": job.deleted_document_count,
        "worker_hostname": job.worker_hostname,
        "worker": job.worker.as_doc() if job.worker else None,
        "error": job.error,
    }


def _short(text: Any, limit: int = 60) -> Any:
    if isinstance(text, str) and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


@command
async def list_jobs(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise CliError("--limit must be at least 1", 2)
    async with open_connection(args) as conn:
        if await conn.store.get_connector(args.connector_id) is None:
            raise ConnectorNotFound(args.connector_id)  # not "no sync jobs": it does not exist
        jobs = await conn.store.list_jobs(
            connector_id=args.connector_id,
            status=JobStatus(args.status) if args.status else None,
            size=args.limit,
        )
    if args.json:
        print_json([_summary(job) for job in jobs])
        return 0
    if not jobs:
        note(f"no sync jobs for connector {args.connector_id}")
        return 0
    print_table(
        [
            (
                job.id,
                job.doc.get("job_type"),
                job.doc.get("trigger_method"),
                job.doc.get("status"),
                when(job.doc.get("created_at")),
                when(job.doc.get("completed_at")),
                job.indexed_document_count,
                job.deleted_document_count,
                job.worker_label,
                _short(job.error),
            )
            for job in jobs
        ],
        [
            "job",
            "type",
            "trigger",
            "status",
            "created",
            "completed",
            "indexed",
            "deleted",
            "worker",
            "error",
        ],
    )
    return 0


def shown_job(job: SyncJob) -> dict[str, Any]:
    from sluice.core.engine.runner import job_notices, job_reconciliation

    doc = copy.deepcopy(job.doc)
    snapshot = doc.get("connector") or {}
    if isinstance(snapshot.get("configuration"), dict):
        snapshot["configuration"] = masked_configuration(snapshot["configuration"])
    # what the sync went on despite (a missing ingest pipeline, stale documents kept)
    checked = job_reconciliation(job.metadata)
    return {
        "id": job.id,
        **doc,
        "notices": job_notices(job.metadata),
        "reconciliation": checked.as_doc() if checked is not None else None,
    }


@command
async def show_job(args: argparse.Namespace) -> int:
    from sluice.core.engine.runner import job_notices, job_reconciliation

    async with open_connection(args) as conn:
        job = await conn.store.get_job(args.job_id)
    if job is None:
        raise JobNotFound(args.job_id)  # worded by `command`, as everywhere
    if args.json:
        print_json(shown_job(job))
        return 0
    d = job.doc
    print_fields(
        [
            ("job", job.id),
            ("connector", job.connector_id),
            ("type", d.get("job_type")),
            ("trigger", d.get("trigger_method")),
            ("status", d.get("status")),
            ("error", job.error),
            *(("notice", notice) for notice in job_notices(job.metadata)),
            ("index", job.index_name),
            ("worker", job.worker_hostname),
            ("instance", _instance(job)),
            ("created", when(d.get("created_at"))),
            ("started", when(d.get("started_at"))),
            ("last seen", when(d.get("last_seen"))),
            ("completed", when(d.get("completed_at"))),
            ("cancel requested", when(d.get("cancelation_requested_at"))),
            ("indexed", job.indexed_document_count),
            ("indexed volume (MiB)", job.indexed_document_volume),
            ("deleted", job.deleted_document_count),
            ("total", job.total_document_count),
            ("reconciliation", _reconciled(job_reconciliation(job.metadata))),
        ]
    )
    return 0


def _reconciled(checked: Any) -> str | None:
    """The index against the source in one line, with the fix when they differ."""
    if checked is None:
        return None
    advice = checked.advice()
    return f"{checked.line()} — {advice}" if advice else str(checked.line())


def _instance(job: SyncJob) -> str | None:
    """Which Sluice instance on the worker host runs the job (two can share a host)."""
    worker = job.worker
    if worker is None:
        return None
    return f"pid {worker.pid}, id {worker.instance_id}, started {when(worker.started)}"


@command
async def cancel_job(args: argparse.Namespace) -> int:
    async with open_connection(args) as conn:
        await conn.store.request_cancel(args.job_id)
        job = await conn.store.get_job(args.job_id)
    status = job.doc.get("status") if job else "canceled"
    if args.json:
        print_json({"id": args.job_id, "status": status})
    elif status == JobStatus.CANCELING.value:
        print(f"job {args.job_id}: canceling (the service running it stops within seconds)")
    else:
        print(f"job {args.job_id}: {status}")
    return 0


@command
async def job_failures(args: argparse.Namespace) -> int:
    """Failure logs are local files (they stay on the machine that ran the job); the job
    itself is looked up first, so an unknown id is an error like everywhere else."""
    from sluice.core.workflows import job_failures as read_job_failures

    async with open_connection(args) as conn:
        if await conn.store.get_job(args.job_id) is None:
            raise JobNotFound(args.job_id)
    entries = read_job_failures(args.job_id)
    if entries is None:
        note(
            f"job {args.job_id} has no failures recorded on this machine (failure logs stay "
            "on the machine that ran the job)"
        )
        if args.json:
            print_json([])
        return 0
    if args.output:
        return _export(args.job_id, args.output)
    entries = [e for e in entries if "id" in e]
    shown = entries[: max(1, args.limit)]
    if args.json:
        print_json(shown)
        return 0
    print_table(
        [
            (
                when(e.get("time")),
                e.get("name") or e["id"],  # a path or a title; the id when the source gave none
                e.get("operation"),
                _short(e.get("reason"), 80),
            )
            for e in shown
        ],
        ["time", "document", "operation", "reason"],
    )
    if len(entries) > len(shown):
        note(f"{len(entries) - len(shown)} more; --limit N shows more, --output FILE exports all")
    return 0


def _export(job_id: str, output: str) -> int:
    from sluice.core.workflows import export_job_failures

    try:
        count = export_job_failures(job_id, Path(output)) or 0
    except BrokenPipeError:
        raise
    except OSError as exc:
        reason = exc.strerror or str(exc)
        hint = " (create the folder first)" if isinstance(exc, FileNotFoundError) else ""
        raise CliError(f"--output {output}: cannot write it: {reason}{hint}") from None
    note(f"{count} failure(s) written to {output}")
    return 0
