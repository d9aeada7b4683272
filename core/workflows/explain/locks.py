"""A connector locked by a job that no longer runs: its `last_*sync_status` says a sync is on,
yet no active job of that family backs it, so every claim of that family is refused."""

from __future__ import annotations

from collections.abc import Sequence

from sluice.core.protocol.models import ACTIVE_STATUSES, JobStatus, JobType
from sluice.core.workflows.explain.context import FAMILIES, Context
from sluice.core.workflows.explain.model import Finding


def orphan_families(
    ctx: Context, families: Sequence[JobType] | None
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


def lock_findings(ctx: Context, family: JobType | None) -> list[Finding]:
    """A connector left `in_progress`/`canceling` by a job that no longer runs: every claim
    of that family is refused until cleanup resets it."""
    findings = []
    for fam, words, status in orphan_families(ctx, None if family is None else (family,)):
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
