"""Why is it stuck? A connector or a sync job that does not progress, explained from its records
and the cluster: the likely causes, most likely first, each with the command that fixes it.

The CLI (`sluice explain ID`) and the TUI show the same `Explanation`. The stuck states it
knows, and how each is told from the records:

- a job nobody claims (`pending`/`suspended`): how long it waited, whether a service checked in
  for its connector lately, whether a running job of the same family holds the connector;
- a job whose worker died (`in_progress`/`canceling` with an old `last_seen`): when cleanup
  fails it (`last_seen` + 5 min, by a service running that connector), and that `sluice run`
  on the worker's host resumes it at once; a Sluice worker of this host whose process is gone;
- a cancel nobody finishes (`canceling` for long, the worker silent or deaf to it);
- a connector locked by a job that no longer exists (`last_sync_status` or
  `last_access_control_sync_status` says in progress, no active job of that family);
- a connector in `error`, or waiting for its configuration;
- schedules that never fire (an invalid cron, no run within 5 years, a connector whose status
  keeps the scheduler away) and, as information, no schedule at all;
- no service checking in: the service doctor (`core.checks.service_doctor`) then says why —
  config.yml, the service type, the cluster's reach, credentials and privileges, the version.

Read-only: explaining never writes a record. Core never imports `sources`: a caller passes the
service types each runner can run (`sources.registry.types_run_by`).
"""

from __future__ import annotations

import shlex
import socket
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sluice.core.checks.result import CheckResult
from sluice.core.checks.service_doctor import Checks, SilenceInputs, diagnose_silence, heartbeat
from sluice.core.deployment import TARGETS
from sluice.core.invocation import sluice_command
from sluice.core.protocol.checkin import CheckinReading, read_checkin
from sluice.core.protocol.errors import NotFound
from sluice.core.protocol.identity import WorkerIdentity, worker_of
from sluice.core.protocol.jobs import STALE_AFTER as CLEANUP_AFTER
from sluice.core.protocol.models import (
    ACTIVE_STATUSES,
    CLAIMABLE_STATUSES,
    Connector,
    ConnectorStatus,
    JobStatus,
    JobType,
    SyncJob,
)
from sluice.core.protocol.scheduling import CronError, next_run, scheduled_job_types, validate_cron
from sluice.core.protocol.store import ConnectorStore

Likelihood = Literal["certain", "likely", "possible", "info"]
#: Most likely first; `info` findings explain without anything being wrong.
LIKELIHOODS: tuple[Likelihood, ...] = ("certain", "likely", "possible", "info")

#: A running job sends stats every 10 s: a minute without one means its worker is most
#: likely gone (cleanup waits `CLEANUP_AFTER` to be sure).
HEARTBEAT_SILENCE = timedelta(seconds=60)
#: A worker notices a cancel within 5 s; `canceling` for a minute means nobody noticed.
CANCEL_NOTICE = timedelta(seconds=60)
#: A live service looks at its queue every `service.idling` (30 s by default).
PENDING_PATIENCE = timedelta(minutes=2)
#: A schedule whose next run is further away than this is as good as never.
SCHEDULE_HORIZON = timedelta(days=5 * 365)
#: Connector families: the jobs that share one `last_*sync_status` lock.
FAMILIES: tuple[tuple[JobType, tuple[JobType, ...], str], ...] = (
    (JobType.FULL, (JobType.FULL, JobType.INCREMENTAL), "content"),
    (JobType.ACCESS_CONTROL, (JobType.ACCESS_CONTROL,), "access-control"),
)


class UnknownTarget(NotFound):
    """The id is neither a connector nor a sync job of this cluster."""

    def __init__(self, target_id: str) -> None:
        self.target_id = target_id
        self.hint = (
            f"`{sluice_command()} connector list` shows the connectors, "
            f"`{sluice_command()} job list CONNECTOR_ID` their jobs"
        )
        super().__init__(f"no connector or sync job with id {target_id!r}; {self.hint}")


@dataclass(frozen=True)
class Finding:
    """One cause: `cause` is a stable short id ("no_service"), `title` one line, `detail`
    the evidence (ids, times), `fix` what to do (commands in backticks); `job_id` names the
    job it is about, when it is about one."""

    cause: str
    title: str
    detail: str
    fix: str
    likelihood: Likelihood = "likely"
    job_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Explanation:
    """What the target is doing (`summary`, one line) and why, most likely cause first."""

    target_kind: Literal["connector", "job"]
    target_id: str
    connector_id: str | None
    summary: str
    findings: tuple[Finding, ...] = ()
    job_id: str | None = None  # the job explained (the target, or the connector's stuck one)

    @property
    def healthy(self) -> bool:
        """Nothing is stuck: every finding (if any) is information."""
        return all(f.likelihood == "info" for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target_kind": self.target_kind,
            "target_id": self.target_id,
            "connector_id": self.connector_id,
            "job_id": self.job_id,
            "summary": self.summary,
            "healthy": self.healthy,
            "findings": [f.as_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class _Context:
    """Everything a finding may name: the records, the clock, how to run the service."""

    store: ConnectorStore
    now: datetime
    connector: Connector | None
    connector_id: str
    open_jobs: tuple[SyncJob, ...]
    reading: CheckinReading
    host: str
    config_path: Path | None
    target: str | None
    runner: str | None  # "sluice" | "elastic" | None (unknown)

    @property
    def service_up(self) -> bool:
        """A service checked in for the connector lately (within `checkin.STALE_AFTER`)."""
        return not self.reading.stale

    @property
    def sluice(self) -> str:
        return sluice_command()

    @property
    def run(self) -> str:
        """The command that starts Sluice's service with the user's config.yml."""
        config = shlex.quote(str(self.config_path or "config.yml"))
        return f"`{self.sluice} run -c {config}`"

    def active(self, types: Sequence[JobType] | None = None) -> list[SyncJob]:
        return [
            j
            for j in self.open_jobs
            if j.status in ACTIVE_STATUSES and (types is None or j.job_type in types)
        ]

    def waiting(self) -> list[SyncJob]:
        return [j for j in self.open_jobs if j.status in CLAIMABLE_STATUSES]


# ------------------------------------------------------------------ words


def span(delta: timedelta) -> str:
    """'12 s', '14 min', '3 h', '2 days'."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ago(ctx: _Context, moment: datetime | None) -> str:
    return "never" if moment is None else f"{span(ctx.now - moment)} ago"


def _worker_words(job: SyncJob) -> str:
    worker = job.worker
    if worker is not None:
        return f"Sluice on {worker.host} (pid {worker.pid})"
    if job.worker_hostname:
        return f"the service on {job.worker_hostname}"
    return "an unknown worker"


# ------------------------------------------------------------------ the entry point


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
    kind, connector, job = await _resolve(store, target_id)
    owner = connector.id if connector is not None else None
    connector_id = owner or str(job.connector_id or "" if job is not None else "")
    if connector is not None and connector.deleted:
        connector_found: Connector | None = None
    else:
        connector_found = connector
    open_jobs = await _open_jobs(store, connector_id) if connector_id else []
    runner, chosen = _runner(connector, target, runnable_types)
    ctx = _Context(
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
    service = _ServiceInputs(environ or {}, runnable_types, checks, service_version)
    if kind == "job":
        assert job is not None
        return await _explain_job(ctx, job, service)
    return await _explain_connector(ctx, target_id, service)


@dataclass(frozen=True)
class _ServiceInputs:
    """What the service doctor needs beyond the context."""

    environ: Mapping[str, str]
    runnable_types: Mapping[str, frozenset[str]] | None
    checks: Checks | None
    service_version: str | None


async def _resolve(
    store: ConnectorStore, target_id: str
) -> tuple[Literal["connector", "job"], Connector | None, SyncJob | None]:
    connector = await store.get_connector(target_id, include_deleted=True)
    if connector is not None:
        return "connector", connector, None
    job = await store.get_job(target_id)
    if job is None:
        raise UnknownTarget(target_id)
    owner = None
    if job.connector_id:
        owner = await store.get_connector(str(job.connector_id), include_deleted=True)
    return "job", owner, job


async def _open_jobs(store: ConnectorStore, connector_id: str) -> list[SyncJob]:
    """The connector's jobs that are not over, oldest first."""
    return await store.find_jobs(
        statuses=CLAIMABLE_STATUSES | ACTIVE_STATUSES, connector_ids=[connector_id], size=100
    )


def _runner(
    connector: Connector | None,
    target: str | None,
    runnable_types: Mapping[str, frozenset[str]] | None,
) -> tuple[str | None, str | None]:
    """(runner, target): the service that should run the connector, as `sluice deploy`
    picks it — Sluice's for the types it runs, else Elastic's."""
    if target is not None:
        return TARGETS.get(target), target
    if runnable_types is None or connector is None:
        return None, None
    if str(connector.service_type or "") in runnable_types.get("sluice", frozenset()):
        return "sluice", "sluice"
    return "elastic", "docker"


def _ordered(findings: list[Finding]) -> tuple[Finding, ...]:
    """Most likely first; equal ones keep the order they were found in (cause before
    consequence)."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for finding in findings:
        key = (finding.cause, finding.detail)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return tuple(sorted(unique, key=lambda f: LIKELIHOODS.index(f.likelihood)))


# ------------------------------------------------------------------ a job


async def _explain_job(ctx: _Context, job: SyncJob, service: _ServiceInputs) -> Explanation:
    findings: list[Finding] = []
    status = job.status
    if ctx.connector is None:
        findings.append(_connector_gone(ctx))
    elif status in ACTIVE_STATUSES:
        findings += _active_job_findings(ctx, job)
    elif status in CLAIMABLE_STATUSES:
        findings += _waiting_job_findings(ctx, job)
    elif status is JobStatus.ERROR:
        findings.append(_job_failed(ctx, job))
    if ctx.connector is not None and status in CLAIMABLE_STATUSES | ACTIVE_STATUSES:
        findings += _lock_findings(ctx, _family_of(job))
        findings += await _error_findings(ctx)
        findings += _connector_state_findings(ctx)
        findings += await _service_findings(ctx, service)
    ordered = _ordered(findings)
    return Explanation(
        "job",
        job.id,
        ctx.connector_id or None,
        _job_summary(ctx, job, ordered),
        ordered,
        job_id=job.id,
    )


def _family_of(job: SyncJob) -> JobType:
    return JobType.ACCESS_CONTROL if job.job_type is JobType.ACCESS_CONTROL else JobType.FULL


def _family_types(family: JobType) -> tuple[JobType, ...]:
    return next(types for first, types, _ in FAMILIES if first is family)


def _job_summary(ctx: _Context, job: SyncJob, findings: tuple[Finding, ...]) -> str:
    healthy = all(f.likelihood == "info" for f in findings)
    status = job.status.value if job.status else str(job.get("status") or "unknown")
    if job.status in CLAIMABLE_STATUSES:
        waited = span(ctx.now - job.created_at) if job.created_at else "an unknown time"
        blockers = _blockers(ctx, job)
        if blockers:
            tail = f"it waits for job {blockers[0].id} of the same connector to finish"
        elif healthy:
            tail = f"the service (checked in {_ago(ctx, ctx.reading.last_seen)}) picks it up"
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
            f", last heartbeat {_ago(ctx, job.last_seen)} from {_worker_words(job)}"
        )
    elif job.status is JobStatus.IN_PROGRESS:
        state = (
            f"job {job.id} in progress, last heartbeat {_ago(ctx, job.last_seen)} from "
            f"{_worker_words(job)}, {job.indexed_document_count} documents indexed"
        )
    else:
        ended = job.completed_at or job.canceled_at or job.last_seen
        state = f"job {job.id} ended {status} {_ago(ctx, ended)}"
    return f"nothing is stuck: {state}" if healthy else state


def _job_failed(ctx: _Context, job: SyncJob) -> Finding:
    return Finding(
        "job_failed",
        f"Job {job.id} ended with an error",
        f"job {job.id} failed: {job.error or 'no error recorded'}",
        f"`{ctx.sluice} job failures {job.id}` lists the documents it could not sync; "
        f"`{ctx.sluice} job start {ctx.connector_id}` queues a new sync once the cause is fixed",
        "info",
        job.id,
    )


def _connector_gone(ctx: _Context) -> Finding:
    return Finding(
        "connector_deleted",
        f"Connector {ctx.connector_id} is deleted",
        f"connector {ctx.connector_id} is deleted (or not in this cluster): no service runs "
        "its jobs, and cleanup fails the ones still open",
        f"nothing runs it again; create a new connector (`{ctx.sluice} connector create`) "
        "and sync that one",
        "certain",
    )


# ------------------------------------------------------------------ running jobs


def _active_job_findings(ctx: _Context, job: SyncJob) -> list[Finding]:
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


def _cleanup_words(ctx: _Context, last: datetime | None) -> str:
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


def _resume_fix(ctx: _Context, job: SyncJob, host: str, silent: timedelta | None) -> str:
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
    ctx: _Context, job: SyncJob, identity: WorkerIdentity, last: datetime | None
) -> Finding:
    return Finding(
        "dead_worker_here",
        f"Job {job.id}'s worker on this machine is gone",
        f"job {job.id} ({job.status.value if job.status else '?'}) is held by Sluice pid "
        f"{identity.pid} on {identity.host} (this machine), and that process no longer runs "
        f"(killed or crashed); last heartbeat {_ago(ctx, last)}. {_cleanup_words(ctx, last)}",
        _resume_fix(ctx, job, identity.host, None),
        "certain",
        job.id,
    )


def _hung_here(ctx: _Context, job: SyncJob, identity: WorkerIdentity, silent: timedelta) -> Finding:
    return Finding(
        "worker_hung_here",
        f"Job {job.id}'s worker on this machine hangs",
        f"job {job.id} is held by Sluice pid {identity.pid} on this machine, which still runs "
        f"but sent no heartbeat for {span(silent)} (a running sync sends one every 10 s)",
        f"stop it (`kill {identity.pid}`), then {ctx.run} here resumes the job at once",
        "likely",
        job.id,
    )


def _silent_worker(
    ctx: _Context, job: SyncJob, silent: timedelta, last: datetime | None
) -> Finding:
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
        f"job {job.id} is held by {_worker_words(job)}, whose last heartbeat was "
        f"{span(silent)} ago (a running sync sends one every 10 s): that instance stopped or "
        f"lost Elasticsearch. {_cleanup_words(ctx, last)}",
        fix,
        "certain" if silent >= CLEANUP_AFTER else "likely",
        job.id,
    )


def _canceling_findings(
    ctx: _Context, job: SyncJob, silent: timedelta | None, last: datetime | None
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
                f"{span(waited) if waited else 'an unknown time'} and {_worker_words(job)} "
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
                f"job {job.id} has been canceling for {span(waited)}, yet {_worker_words(job)} "
                f"is alive (heartbeat {_ago(ctx, last)}) and goes on: a worker notices a cancel "
                "within seconds, so it is stuck in a long call or does not check for cancels",
                f"read the log of the service on {job.worker_hostname or 'its host'} for lines "
                f"naming {job.id}; once that service stops, cleanup fails the job "
                f"{span(CLEANUP_AFTER)} after its last heartbeat",
                "likely",
                job.id,
            )
        ]
    return []


# ------------------------------------------------------------------ waiting jobs


def _blockers(ctx: _Context, job: SyncJob) -> list[SyncJob]:
    """Running jobs of the same connector and family: the claim waits for them."""
    return [j for j in ctx.active(_family_types(_family_of(job))) if j.id != job.id]


def _waiting_job_findings(ctx: _Context, job: SyncJob) -> list[Finding]:
    findings: list[Finding] = []
    blockers = _blockers(ctx, job)
    for blocker in blockers:
        findings += _active_job_findings(ctx, blocker)
        findings.append(
            Finding(
                "queued_behind",
                f"Job {job.id} waits for job {blocker.id}",
                f"connector {ctx.connector_id} runs one sync of a family at a time, and job "
                f"{blocker.id} ({blocker.status.value if blocker.status else '?'}, "
                f"{_worker_words(blocker)}) holds it",
                f"nothing to do while it runs; `{ctx.sluice} job cancel {blocker.id}` frees "
                "the connector for this job",
                "info",
                job.id,
            )
        )
    if blockers or not ctx.service_up or job.created_at is None:
        return findings
    waited = ctx.now - job.created_at
    if waited >= PENDING_PATIENCE and not _orphan_families(ctx, (_family_of(job),)):
        findings.append(
            Finding(
                "pending_unclaimed",
                f"Job {job.id} waits though a service is up",
                f"job {job.id} has waited {span(waited)}, though a service checked in for "
                f"connector {ctx.connector_id} {_ago(ctx, ctx.reading.last_seen)} and looks at "
                "its queue every 30 s: it is busy with other syncs "
                "(service.max_concurrent_content_syncs, 1 by default) or does not take this job",
                f"read that service's log for lines naming {job.id}, or watch it with "
                f"`{ctx.sluice} monitor`",
                "likely",
                job.id,
            )
        )
    return findings


# ------------------------------------------------------------------ the connector


async def _explain_connector(ctx: _Context, target_id: str, service: _ServiceInputs) -> Explanation:
    if ctx.connector is None:
        finding = _connector_gone(ctx)
        return Explanation(
            "connector",
            target_id,
            target_id,
            f"connector {target_id} is deleted",
            (finding,),
        )
    findings: list[Finding] = []
    for job in ctx.active():
        findings += _active_job_findings(ctx, job)
    waiting = ctx.waiting()
    if waiting:
        findings += _waiting_job_findings(ctx, waiting[0])
    findings += _lock_findings(ctx, None)
    findings += await _error_findings(ctx)
    findings += _connector_state_findings(ctx)
    findings += _schedule_findings(ctx, idle=not ctx.open_jobs)
    findings += await _service_findings(ctx, service)
    ordered = _ordered(findings)
    return Explanation(
        "connector",
        target_id,
        ctx.connector_id,
        _connector_summary(ctx, ordered),
        ordered,
        job_id=next((f.job_id for f in ordered if f.job_id and f.likelihood != "info"), None),
    )


def _connector_summary(ctx: _Context, findings: tuple[Finding, ...]) -> str:
    connector = ctx.connector
    assert connector is not None
    status = connector.status.value if connector.status else str(connector.get("status") or "?")
    if ctx.reading.last_seen is None:
        checkin = "no service has checked in"
    else:
        checkin = f"last check-in {_ago(ctx, ctx.reading.last_seen)}"
    running, waiting = len(ctx.active()), len(ctx.waiting())
    state = (
        f"connector {connector.id} ({connector.service_type}, status {status}): {checkin}; "
        f"{running} job(s) running, {waiting} waiting"
    )
    if connector.last_synced is not None and connector.last_sync_status is not None:
        state += (
            f"; last sync {connector.last_sync_status.value} {_ago(ctx, connector.last_synced)}"
        )
    healthy = all(f.likelihood == "info" for f in findings)
    return f"nothing is stuck: {state}" if healthy else state


def _orphan_families(
    ctx: _Context, families: Sequence[JobType] | None
) -> list[tuple[JobType, str, JobStatus]]:
    """(family, words, status) of the connector's locks that no active job backs."""
    connector = ctx.connector
    if connector is None:
        return []
    found = []
    for family, types, words in FAMILIES:
        if families is not None and family not in families:
            continue
        status = connector.sync_status(family)
        if status in ACTIVE_STATUSES and not ctx.active(types):
            found.append((family, words, status))
    return found


def _lock_findings(ctx: _Context, family: JobType | None) -> list[Finding]:
    """A connector left `in_progress`/`canceling` by a job that no longer runs: every claim
    of that family is refused until cleanup resets it."""
    findings = []
    for fam, words, status in _orphan_families(ctx, None if family is None else (family,)):
        field = (
            "last_access_control_sync_status"
            if fam is JobType.ACCESS_CONTROL
            else "last_sync_status"
        )
        findings.append(
            Finding(
                "orphan_lock",
                f"Connector {ctx.connector_id} is locked by a job that no longer runs",
                f"connector {ctx.connector_id} has {field}: {status.value}, but no {words} "
                "job of it is in progress or canceling (an instance died between locking the "
                "connector and claiming its job, or the job was removed): every "
                f"{words} sync of it is refused",
                f"a running service resets it at its next cleanup pass (every 5 min): start "
                f"one with {ctx.run}, or wait for the one running",
                "certain",
            )
        )
    return findings


async def _error_findings(ctx: _Context) -> list[Finding]:
    connector = ctx.connector
    if connector is None or connector.status is not ConnectorStatus.ERROR:
        return []
    detail = f"connector {connector.id} is in status error: {connector.error or 'no error text'}"
    if connector.last_sync_error:
        detail += f"; its last sync failed: {connector.last_sync_error}"
    failed = await ctx.store.list_jobs(connector_id=connector.id, status=JobStatus.ERROR, size=1)
    fix = (
        f"fix what it names (`{ctx.sluice} connector configure {connector.id} --set KEY=VALUE` "
        "for a setting); the service checks the source again at its next pass"
    )
    if failed:
        fix += (
            f"; `{ctx.sluice} job show {failed[0].id}` shows the failed sync, "
            f"`{ctx.sluice} job start {connector.id}` starts a new one"
        )
    return [
        Finding("connector_error", f"Connector {connector.id} is in error", detail, fix, "certain")
    ]


def _connector_state_findings(ctx: _Context) -> list[Finding]:
    connector = ctx.connector
    if connector is None or connector.status is not ConnectorStatus.NEEDS_CONFIGURATION:
        return []
    return [
        Finding(
            "needs_configuration",
            f"Connector {connector.id} is not configured",
            f"connector {connector.id} is in status needs_configuration: required settings "
            "are empty, so the service cannot reach its source and no schedule fires",
            f"`{ctx.sluice} connector show {connector.id}` lists the settings; "
            f"`{ctx.sluice} connector configure {connector.id} --set KEY=VALUE` fills them",
            "likely",
        )
    ]


# ------------------------------------------------------------------ schedules


def _schedule_findings(ctx: _Context, *, idle: bool) -> list[Finding]:
    """Enabled schedules that never fire; with nothing running or waiting, say when none is
    enabled (information: syncs then start only on demand)."""
    connector = ctx.connector
    assert connector is not None
    findings: list[Finding] = []
    firing = []
    allowed = scheduled_job_types(connector)
    for job_type in JobType:
        schedule = connector.schedule(job_type)
        if schedule.get("enabled") is not True:
            continue
        if job_type not in allowed:
            findings.append(_schedule_ignored(ctx, job_type))
            continue
        finding = _schedule_problem(ctx, job_type, str(schedule.get("interval") or ""))
        if finding is not None:
            findings.append(finding)
        else:
            firing.append(job_type)
    if firing and connector.status in (
        ConnectorStatus.CREATED,
        ConnectorStatus.NEEDS_CONFIGURATION,
    ):
        findings.append(_schedule_waits_for_configuration(ctx, connector))
    if not firing and not findings and idle:
        findings.append(
            Finding(
                "no_schedule",
                f"No schedule is enabled for connector {connector.id}",
                f"connector {connector.id} has every schedule disabled: it syncs only when a "
                "sync is started",
                f"`{ctx.sluice} job start {connector.id}` queues a sync now; "
                f"`{ctx.sluice} connector schedule {connector.id} --full '0 0 * * * ?'` "
                "syncs it hourly (Quartz cron, UTC)",
                "info",
            )
        )
    return findings


def _schedule_ignored(ctx: _Context, job_type: JobType) -> Finding:
    feature = {
        JobType.INCREMENTAL: "incremental_sync",
        JobType.ACCESS_CONTROL: "document_level_security",
    }.get(job_type, job_type.value)
    return Finding(
        "schedule_ignored",
        f"The {job_type.value} schedule of connector {ctx.connector_id} is ignored",
        f"scheduling.{job_type.value} is enabled, but the connector's feature {feature} is "
        "off: services schedule no such job",
        f"turn the feature on where the connector is set up, or `{ctx.sluice} connector "
        f"schedule {ctx.connector_id} --disable {job_type.value}`",
        "likely",
    )


def _schedule_problem(ctx: _Context, job_type: JobType, cron: str) -> Finding | None:
    """Why an enabled schedule never fires (None: it does, within `SCHEDULE_HORIZON`)."""
    option = f"--{job_type.value.replace('_', '-')}"
    fix = (
        f"`{ctx.sluice} connector schedule {ctx.connector_id} {option} '0 0 * * * ?'` sets "
        f"an hourly one (Quartz cron, UTC), `--disable {job_type.value}` turns it off"
    )
    problem = validate_cron(cron)
    if problem is not None:
        return Finding(
            "invalid_schedule",
            f"The {job_type.value} schedule of connector {ctx.connector_id} is invalid",
            f"scheduling.{job_type.value} is enabled with interval {cron!r}, which no "
            f"service can run: {problem}",
            fix,
            "certain",
        )
    try:
        next_at = next_run(cron, ctx.now)
    except CronError as exc:
        when = f"never fires again: {exc}"
    else:
        if next_at - ctx.now <= SCHEDULE_HORIZON:
            return None
        when = f"next fires at {clock(next_at)}, more than 5 years from now"
    return Finding(
        "schedule_never_fires",
        f"The {job_type.value} schedule of connector {ctx.connector_id} never fires",
        f"scheduling.{job_type.value} is enabled with interval {cron!r}, which {when}",
        fix,
        "certain",
    )


def _schedule_waits_for_configuration(ctx: _Context, connector: Connector) -> Finding:
    status = connector.status.value if connector.status else "?"
    return Finding(
        "schedule_blocked",
        f"Connector {connector.id}'s schedules wait for its configuration",
        f"connector {connector.id} has a schedule enabled, but is in status {status}: "
        "services queue no scheduled sync for a connector until it is configured",
        f"`{ctx.sluice} connector configure {connector.id} --set KEY=VALUE` fills its settings "
        f"(`{ctx.sluice} connector show {connector.id}` lists them); a running service then "
        "checks the source",
        "certain",
    )


# ------------------------------------------------------------------ the service


#: Service-doctor check id -> (cause, title).
_DOCTOR = {
    "config": ("not_in_config", "config.yml does not let the service run this connector"),
    "service_type": ("no_source_for_type", "The chosen service has no source for this type"),
    "reach": ("unreachable", "The service cannot reach Elasticsearch"),
    "credentials": ("credentials", "The service's credentials don't work"),
    "version": ("version_refused", "The service's release refuses this cluster"),
}


async def _service_findings(ctx: _Context, service: _ServiceInputs) -> list[Finding]:
    """When no service checked in lately: that, and why (the service doctor's verdicts)."""
    if ctx.connector is None or ctx.service_up:
        return []
    findings: list[Finding] = []
    inputs = _silence_inputs(ctx, service)
    if ctx.config_path is None:  # no config.yml to judge: the heartbeat alone
        items = [heartbeat(inputs, ctx.now)]
    else:
        captured: dict[str, CheckResult] = {}
        items = await diagnose_silence(
            inputs, checks=_recording(service.checks, captured), now=ctx.now
        )
        findings += [f for f in (_from_doctor(i, captured) for i in items) if f is not None]
    findings.append(_no_service(ctx, items[0]))
    return findings


def _silence_inputs(ctx: _Context, service: _ServiceInputs) -> SilenceInputs:
    runnable = None
    if service.runnable_types is not None and ctx.runner is not None:
        runnable = service.runnable_types.get(ctx.runner)
    return SilenceInputs(
        config_path=ctx.config_path or Path("config.yml"),
        connector=ctx.connector,
        connector_id=ctx.connector_id,
        target=ctx.target,
        service_version=service.service_version,
        environ=service.environ,
        runnable_types=runnable,
    )


def _recording(checks: Checks | None, captured: dict[str, CheckResult]) -> Checks:
    """`checks` (default: every cluster check), keeping each result by id: a `credentials`
    failure is then told apart as missing privileges."""

    async def run(settings: Any, **kwargs: Any) -> list[CheckResult]:
        if checks is None:
            from sluice.core.checks.runner import collect_checks

            results = await collect_checks(settings, **kwargs)
        else:
            results = await checks(settings, **kwargs)
        captured.update({result.id: result for result in results})
        return results

    return run


def _from_doctor(item: CheckResult, captured: Mapping[str, CheckResult]) -> Finding | None:
    if item.id not in _DOCTOR or item.status not in ("fail", "warn"):
        return None
    cause, title = _DOCTOR[item.id]
    if item.id == "config" and "service_type" in item.message:
        cause, title = "service_type_mismatch", "config.yml and the record disagree on the type"
    privileges = captured.get("privileges")
    if item.id == "credentials" and privileges is not None and privileges.status == "fail":
        cause, title = "missing_privileges", "The service's credentials lack privileges"
    if item.status == "fail":
        likelihood: Likelihood = "certain"
    elif item.id == "version":
        cause, title, likelihood = "version_unknown", "The service's release is unknown", "possible"
    else:
        likelihood = "likely"
    return Finding(cause, title, item.message, item.hint or "", likelihood)


def _no_service(ctx: _Context, verdict: CheckResult) -> Finding:
    """The doctor's heartbeat verdict, as the symptom every cause above leads to."""
    cid = ctx.connector_id
    detail = f"connector {cid}: {verdict.message} (a running service checks in every 5 min)"
    waiting = ctx.waiting()
    if waiting and waiting[0].created_at is not None:
        detail += f"; job {waiting[0].id} has waited {span(ctx.now - waiting[0].created_at)}"
    deploy = f"`{ctx.sluice} deploy {cid}` prints every way to run it"
    if ctx.runner == "elastic":
        fix = f"start Elastic's connector service for it: {deploy}"
    else:
        fix = f"start the service: {ctx.run} (config.yml must list connector_id {cid}); {deploy}"
    return Finding("no_service", f"No service runs connector {cid}", detail, fix, "likely")
