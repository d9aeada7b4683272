"""The bridge to the service doctor (`core.checks.service_doctor`): when no service checks in
for the connector, that symptom and the doctor's verdicts on why — config.yml, the service
type, the cluster's reach, credentials and privileges, the version — as findings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sluice.core.checks.result import CheckResult
from sluice.core.checks.runner import collect_checks
from sluice.core.checks.service_doctor import Checks, SilenceInputs, diagnose_silence, heartbeat
from sluice.core.workflows.explain.context import Context
from sluice.core.workflows.explain.model import Finding, Likelihood, span


@dataclass(frozen=True)
class ServiceInputs:
    """What the service doctor needs beyond the context."""

    environ: Mapping[str, str]
    runnable_types: Mapping[str, frozenset[str]] | None
    checks: Checks | None
    service_version: str | None


#: Service-doctor check id -> (cause, title).
_DOCTOR = {
    "config": ("not_in_config", "config.yml does not let the service run this connector"),
    "service_type": ("no_source_for_type", "The chosen service has no source for this type"),
    "reach": ("unreachable", "The service cannot reach Elasticsearch"),
    "credentials": ("credentials", "The service's credentials don't work"),
    "version": ("version_refused", "The service's release refuses this cluster"),
}


async def service_findings(ctx: Context, service: ServiceInputs) -> list[Finding]:
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


def _silence_inputs(ctx: Context, service: ServiceInputs) -> SilenceInputs:
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


def _no_service(ctx: Context, verdict: CheckResult) -> Finding:
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
