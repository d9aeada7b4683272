"""The entry point: resolve the id, gather the findings for a job or a connector from each
module that finds something, and sum them up in one line, most likely cause first."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from sluice.core.checks.service_doctor import Checks
from sluice.core.protocol.checkin import read_checkin
from sluice.core.protocol.models import (
    ACTIVE_STATUSES,
    CLAIMABLE_STATUSES,
    Connector,
    JobStatus,
    SyncJob,
)
from sluice.core.protocol.store import ConnectorStore
from sluice.core.workflows.explain.connector import (
    connector_gone,
    connector_state_findings,
    error_findings,
)
from sluice.core.workflows.explain.context import (
    Context,
    ago,
    choose_runner,
    family_of,
    read_open_jobs,
    resolve,
)
from sluice.core.workflows.explain.jobs import (
    active_job_findings,
    blocking_jobs,
    job_failed,
    waiting_job_findings,
    worker_words,
)
from sluice.core.workflows.explain.locks import lock_findings
from sluice.core.workflows.explain.model import Explanation, Finding, most_likely_first, span
from sluice.core.workflows.explain.schedule import schedule_findings
from sluice.core.workflows.explain.service import ServiceInputs, service_findings


async def explain(
    store: ConnectorStore,
    target_id: str,
    *,
    now: datetime | None = None,
    config_path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    runnable_types: Mapping[str, frozenset[str]] | None = None,
    checks: Checks | None = None,
    target: str | None = None,
    service_version: str | None = None,
    host: str | None = None,
) -> Explanation:
    """Explain the connector or sync job `target_id` (a connector id first, else a job id).

    `config_path`: the config.yml the service runs with (None: the service doctor is not
    run, only the heartbeat is read). `runnable_types`: the service types each runner can run,
    by runner ("sluice", "elastic"), to pick the service that should run the connector as
    `sluice deploy` does (None: don't judge). `target` forces one (a key of
    `deployment.TARGETS`); `service_version` is the release of Elastic's service deployed.
    `checks` replaces the cluster checks (as in `diagnose_silence`); `host` is this machine's
    name (to tell a dead local worker). Raises `UnknownTarget` for an unknown id."""
    now = now or datetime.now(UTC)
    kind, connector, job = await resolve(store, target_id)
    owner = connector.id if connector is not None else None
    connector_id = owner or str(job.connector_id or "" if job is not None else "")
    if connector is not None and connector.deleted:
        connector_found: Connector | None = None
    else:
        connector_found = connector
    open_jobs = await read_open_jobs(store, connector_id) if connector_id else []
    runner, chosen = choose_runner(connector, target, runnable_types)
    ctx = Context(
        store=store,
        now=now,
        connector=connector_found,
        connector_id=connector_id,
        open_jobs=tuple(open_jobs),
        reading=read_checkin(connector_found, now),
        host=host or socket.gethostname(),
        config_path=Path(config_path) if config_path is not None else None,
        target=chosen,
        runner=runner,
    )
    service = ServiceInputs(environ or {}, runnable_types, checks, service_version)
    if kind == "job":
        assert job is not None
        return await _explain_job(ctx, job, service)
    return await _explain_connector(ctx, target_id, service)


async def _explain_job(ctx: Context, job: SyncJob, service: ServiceInputs) -> Explanation:
    findings: list[Finding] = []
    status = job.status
    if ctx.connector is None:
        findings.append(connector_gone(ctx))
    elif status in ACTIVE_STATUSES:
        findings += active_job_findings(ctx, job)
    elif status in CLAIMABLE_STATUSES:
        findings += waiting_job_findings(ctx, job)
    elif status is JobStatus.ERROR:
        findings.append(job_failed(ctx, job))
    if ctx.connector is not None and status in CLAIMABLE_STATUSES | ACTIVE_STATUSES:
        findings += lock_findings(ctx, family_of(job))
        findings += await error_findings(ctx)
        findings += connector_state_findings(ctx)
        findings += await service_findings(ctx, service)
    ordered = most_likely_first(findings)
    return Explanation(
        "job",
        job.id,
        ctx.connector_id or None,
        _job_summary(ctx, job, ordered),
        ordered,
        job_id=job.id,
    )


def _job_summary(ctx: Context, job: SyncJob, findings: tuple[Finding, ...]) -> str:
    healthy = all(f.likelihood == "info" for f in findings)
    status = job.status.value if job.status else str(job.get("status") or "unknown")
    if job.status in CLAIMABLE_STATUSES:
        waited = span(ctx.now - job.created_at) if job.created_at else "an unknown time"
        blockers = blocking_jobs(ctx, job)
        if blockers:
            tail = f"it waits for job {blockers[0].id} of the same connector to finish"
        elif healthy:
            tail = f"the service (checked in {ago(ctx, ctx.reading.last_seen)}) picks it up"
        else:
            tail = "no service has claimed it"
        if job.status is JobStatus.SUSPENDED:  # interrupted by a shutdown, queued again
            state = f"job {job.id} suspended (created {waited} ago); {tail}"
        else:
            state = f"job {job.id} pending for {waited}; {tail}"
    elif job.status is JobStatus.CANCELING:
        since = job.cancelation_requested_at
        state = (
            f"job {job.id} canceling for {span(ctx.now - since) if since else 'an unknown time'}"
            f", last heartbeat {ago(ctx, job.last_seen)} from {worker_words(job)}"
        )
    elif job.status is JobStatus.IN_PROGRESS:
        state = (
            f"job {job.id} in progress, last heartbeat {ago(ctx, job.last_seen)} from "
            f"{worker_words(job)}, {job.indexed_document_count} documents indexed"
        )
    else:
        ended = job.completed_at or job.canceled_at or job.last_seen
        state = f"job {job.id} ended {status} {ago(ctx, ended)}"
    return f"nothing is stuck: {state}" if healthy else state


async def _explain_connector(ctx: Context, target_id: str, service: ServiceInputs) -> Explanation:
    if ctx.connector is None:
        finding = connector_gone(ctx)
        return Explanation(
            "connector",
            target_id,
            target_id,
            f"connector {target_id} is deleted",
            (finding,),
        )
    findings: list[Finding] = []
    for job in ctx.active():
        findings += active_job_findings(ctx, job)
    waiting = ctx.waiting()
    if waiting:
        findings += waiting_job_findings(ctx, waiting[0])
    findings += lock_findings(ctx, None)
    findings += await error_findings(ctx)
    findings += connector_state_findings(ctx)
    findings += schedule_findings(ctx, idle=not ctx.open_jobs)
    findings += await service_findings(ctx, service)
    ordered = most_likely_first(findings)
    return Explanation(
        "connector",
        target_id,
        ctx.connector_id,
        _connector_summary(ctx, ordered),
        ordered,
        job_id=next((f.job_id for f in ordered if f.job_id and f.likelihood != "info"), None),
    )


def _connector_summary(ctx: Context, findings: tuple[Finding, ...]) -> str:
    connector = ctx.connector
    assert connector is not None
    status = connector.status.value if connector.status else str(connector.get("status") or "?")
    if ctx.reading.last_seen is None:
        checkin = "no service has checked in"
    else:
        checkin = f"last check-in {ago(ctx, ctx.reading.last_seen)}"
    running, waiting = len(ctx.active()), len(ctx.waiting())
    state = (
        f"connector {connector.id} ({connector.service_type}, status {status}): {checkin}; "
        f"{running} job(s) running, {waiting} waiting"
    )
    if connector.last_synced is not None and connector.last_sync_status is not None:
        state += f"; last sync {connector.last_sync_status.value} {ago(ctx, connector.last_synced)}"
    healthy = all(f.likelihood == "info" for f in findings)
    return f"nothing is stuck: {state}" if healthy else state
