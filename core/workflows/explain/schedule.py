"""Schedules that never fire — an invalid cron, no run within 5 years, a feature or a status
that keeps the scheduler away — and, as information, no schedule at all."""

from __future__ import annotations

from datetime import timedelta

from sluice.core.protocol.models import Connector, ConnectorStatus, JobType
from sluice.core.protocol.scheduling import CronError, next_run, scheduled_job_types, validate_cron
from sluice.core.workflows.explain.context import Context
from sluice.core.workflows.explain.model import Finding, clock

#: A schedule whose next run is further away than this is as good as never.
SCHEDULE_HORIZON = timedelta(days=5 * 365)


def schedule_findings(ctx: Context, *, idle: bool) -> list[Finding]:
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


def _schedule_ignored(ctx: Context, job_type: JobType) -> Finding:
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


def _schedule_problem(ctx: Context, job_type: JobType, cron: str) -> Finding | None:
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


def _schedule_waits_for_configuration(ctx: Context, connector: Connector) -> Finding:
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
