"""Findings about one job that does not progress: a worker dead or hung (here or elsewhere),
a cancel nobody finishes, a job nobody claims or one queued behind another, a job that failed
— each with when cleanup steps in and what resumes it sooner."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sluice.core.engine.deletion_guard import guard_trip_of
from sluice.core.protocol.identity import WorkerIdentity, worker_of
from sluice.core.protocol.jobs import STALE_AFTER as CLEANUP_AFTER
from sluice.core.protocol.models import JobStatus, SyncJob
from sluice.core.workflows.explain.connector import guard_finding
from sluice.core.workflows.explain.context import Context, ago, family_of, family_types
from sluice.core.workflows.explain.locks import orphan_families
from sluice.core.workflows.explain.model import Finding, clock, span

#: A running job sends stats every 10 s: a minute without one means its worker is most
#: likely gone (cleanup waits `CLEANUP_AFTER` to be sure).
HEARTBEAT_SILENCE = timedelta(seconds=60)
#: A worker notices a cancel within 5 s; `canceling` for a minute means nobody noticed.
CANCEL_NOTICE = timedelta(seconds=60)
#: A live service looks at its queue every `service.idling` (30 s by default).
PENDING_PATIENCE = timedelta(minutes=2)


def worker_words(job: SyncJob) -> str:
    worker = job.worker
    if worker is not None:
        return f"Sluice on {worker.host} (pid {worker.pid})"
    if job.worker_hostname:
        return f"the service on {job.worker_hostname}"
    return "an unknown worker"


def job_failed(ctx: Context, job: SyncJob) -> Finding:
    trip = guard_trip_of(job.metadata)
    if trip is not None:  # not a failure to read: a stop, waiting for a decision
        return replace(guard_finding(ctx.connector_id, trip), job_id=job.id)
    return Finding(
        "job_failed",
        f"Job {job.id} ended with an error",
        f"job {job.id} failed: {job.error or 'no error recorded'}",
        f"`{ctx.sluice} job failures {job.id}` lists the documents it could not sync; "
        f"`{ctx.sluice} job start {ctx.connector_id}` queues a new sync once the cause is fixed",
        "info",
        job.id,
    )


def active_job_findings(ctx: Context, job: SyncJob) -> list[Finding]:
    """A job some instance holds: is that instance still there?"""
    last = job.last_seen or job.started_at or job.created_at
    silent = ctx.now - last if last is not None else None
    identity = worker_of(job.metadata)
    if identity is not None and identity.host == job.worker_hostname:
        if identity.is_dead_here(ctx.host):
            return [_dead_here(ctx, job, identity, last)]
        if identity.host == ctx.host and silent is not None and silent >= HEARTBEAT_SILENCE:
            return [_hung_here(ctx, job, identity, silent)]
    if job.status is JobStatus.CANCELING:
        return _canceling_findings(ctx, job, silent, last)
    if silent is None or silent < HEARTBEAT_SILENCE:
        return []
    return [_silent_worker(ctx, job, silent, last)]


def _cleanup_words(ctx: Context, last: datetime | None) -> str:
    """When stale-job cleanup fails the job: `last_seen` + 5 min, by a service that runs the
    connector (each does a cleanup pass every `service.job_cleanup_interval`, 5 min)."""
    if last is None:
        return "Cleanup fails it at the next pass of a service that runs this connector"
    due = last + CLEANUP_AFTER
    if due > ctx.now:
        return (
            f"Cleanup fails it from {clock(due)} (in {span(due - ctx.now)}, "
            f"{span(CLEANUP_AFTER)} after its last heartbeat), at the next pass of a service "
            f"running connector {ctx.connector_id}"
        )
    if ctx.service_up:
        return (
            f"Cleanup may fail it since {clock(due)}; the service checking in for connector "
            f"{ctx.connector_id} does so at its next cleanup pass (every 5 min)"
        )
    return (
        f"Cleanup could fail it since {clock(due)} ({span(ctx.now - due)} ago), but no service "
        f"running connector {ctx.connector_id} is up to do it: it stays stuck until one starts"
    )


def _resume_fix(ctx: Context, job: SyncJob, host: str, silent: timedelta | None) -> str:
    """`sluice run` on the worker's host recovers a dead instance's job at once; `sluice sync`
    resumes a content sync there, or anywhere once it is silent past the cleanup delay."""
    where = "here" if host == ctx.host else f"on {host}"
    verb = "cancels" if job.status is JobStatus.CANCELING else "resumes"
    fix = (
        f"run {ctx.run} {where} (its config.yml listing {ctx.connector_id}): it sees the dead "
        f"instance and {verb} job {job.id} at once"
    )
    if job.status is JobStatus.IN_PROGRESS and job.is_content_sync:
        if silent is not None and silent >= CLEANUP_AFTER:
            where = "here"
        fix += f"; or `{ctx.sluice} sync {ctx.connector_id}` {where} resumes it in the foreground"
    return fix


def _dead_here(
    ctx: Context, job: SyncJob, identity: WorkerIdentity, last: datetime | None
) -> Finding:
    return Finding(
        "dead_worker_here",
        f"Job {job.id}'s worker on this machine is gone",
        f"job {job.id} ({job.status.value if job.status else '?'}) is held by Sluice pid "
        f"{identity.pid} on {identity.host} (this machine), and that process no longer runs "
        f"(killed or crashed); last heartbeat {ago(ctx, last)}. {_cleanup_words(ctx, last)}",
        _resume_fix(ctx, job, identity.host, None),
        "certain",
        job.id,
    )


def _hung_here(ctx: Context, job: SyncJob, identity: WorkerIdentity, silent: timedelta) -> Finding:
    return Finding(
        "worker_hung_here",
        f"Job {job.id}'s worker on this machine hangs",
        f"job {job.id} is held by Sluice pid {identity.pid} on this machine, which still runs "
        f"but sent no heartbeat for {span(silent)} (a running sync sends one every 10 s)",
        f"stop it (`kill {identity.pid}`), then {ctx.run} here resumes the job at once",
        "likely",
        job.id,
    )


def _silent_worker(ctx: Context, job: SyncJob, silent: timedelta, last: datetime | None) -> Finding:
    identity = job.worker
    host = identity.host if identity is not None else job.worker_hostname
    if identity is not None:
        fix = _resume_fix(ctx, job, identity.host, silent)
    else:
        fix = (
            f"restart the connector service on {host or 'the host that ran it'}; or wait for "
            f"cleanup, then `{ctx.sluice} job start {ctx.connector_id}` queues a new sync"
        )
    return Finding(
        "dead_worker",
        f"Job {job.id}'s worker stopped sending heartbeats",
        f"job {job.id} is held by {worker_words(job)}, whose last heartbeat was "
        f"{span(silent)} ago (a running sync sends one every 10 s): that instance stopped or "
        f"lost Elasticsearch. {_cleanup_words(ctx, last)}",
        fix,
        "certain" if silent >= CLEANUP_AFTER else "likely",
        job.id,
    )


def _canceling_findings(
    ctx: Context, job: SyncJob, silent: timedelta | None, last: datetime | None
) -> list[Finding]:
    since = job.cancelation_requested_at
    waited = ctx.now - since if since is not None else None
    if silent is not None and silent >= HEARTBEAT_SILENCE:
        identity = job.worker
        fix = (
            _resume_fix(ctx, job, identity.host, silent)
            if identity is not None
            else f"restart the connector service on {job.worker_hostname or 'its host'}"
        )
        return [
            Finding(
                "cancel_stuck",
                f"Job {job.id} is canceling, but its worker is gone",
                f"job {job.id} has been canceling for "
                f"{span(waited) if waited else 'an unknown time'} and {worker_words(job)} "
                f"last sent a heartbeat {span(silent)} ago: nobody is left to finish the "
                f"cancel. {_cleanup_words(ctx, last)}",
                fix + "; otherwise cleanup ends it (as failed)",
                "certain" if silent >= CLEANUP_AFTER else "likely",
                job.id,
            )
        ]
    if waited is not None and waited >= CANCEL_NOTICE:
        return [
            Finding(
                "cancel_unnoticed",
                f"Job {job.id}'s worker has not noticed the cancel",
                f"job {job.id} has been canceling for {span(waited)}, yet {worker_words(job)} "
                f"is alive (heartbeat {ago(ctx, last)}) and goes on: a worker notices a cancel "
                "within seconds, so it is stuck in a long call or does not check for cancels",
                f"read the log of the service on {job.worker_hostname or 'its host'} for lines "
                f"naming {job.id}; once that service stops, cleanup fails the job "
                f"{span(CLEANUP_AFTER)} after its last heartbeat",
                "likely",
                job.id,
            )
        ]
    return []


def blocking_jobs(ctx: Context, job: SyncJob) -> list[SyncJob]:
    """Running jobs of the same connector and family: the claim waits for them."""
    return [j for j in ctx.active(family_types(family_of(job))) if j.id != job.id]


def waiting_job_findings(ctx: Context, job: SyncJob) -> list[Finding]:
    findings: list[Finding] = []
    blockers = blocking_jobs(ctx, job)
    for blocker in blockers:
        findings += active_job_findings(ctx, blocker)
        findings.append(
            Finding(
                "queued_behind",
                f"Job {job.id} waits for job {blocker.id}",
                f"connector {ctx.connector_id} runs one sync of a family at a time, and job "
                f"{blocker.id} ({blocker.status.value if blocker.status else '?'}, "
                f"{worker_words(blocker)}) holds it",
                f"nothing to do while it runs; `{ctx.sluice} job cancel {blocker.id}` frees "
                "the connector for this job",
                "info",
                job.id,
            )
        )
    if blockers or not ctx.service_up or job.created_at is None:
        return findings
    waited = ctx.now - job.created_at
    if waited >= PENDING_PATIENCE and not orphan_families(ctx, (family_of(job),)):
        findings.append(
            Finding(
                "pending_unclaimed",
                f"Job {job.id} waits though a service is up",
                f"job {job.id} has waited {span(waited)}, though a service checked in for "
                f"connector {ctx.connector_id} {ago(ctx, ctx.reading.last_seen)} and looks at "
                "its queue every 30 s: it is busy with other syncs "
                "(service.max_concurrent_content_syncs, 1 by default) or does not take this job",
                f"read that service's log for lines naming {job.id}, or watch it with "
                f"`{ctx.sluice} monitor`",
                "likely",
                job.id,
            )
        )
    return findings
