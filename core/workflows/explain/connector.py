"""What the connector record itself says keeps it still: deleted, in `error`, or waiting for
its configuration."""

from __future__ import annotations

from sluice.core.engine.deletion_guard import GuardTrip, guard_trip_of
from sluice.core.protocol.models import ConnectorStatus, JobStatus
from sluice.core.workflows.explain.context import Context
from sluice.core.workflows.explain.model import Finding


def connector_gone(ctx: Context) -> Finding:
    return Finding(
        "connector_deleted",
        f"Connector {ctx.connector_id} is deleted",
        f"connector {ctx.connector_id} is deleted (or not in this cluster): no service runs "
        "its jobs, and cleanup fails the ones still open",
        f"nothing runs it again; create a new connector (`{ctx.sluice} connector create`) "
        "and sync that one",
        "certain",
    )


async def error_findings(ctx: Context) -> list[Finding]:
    connector = ctx.connector
    if connector is None or connector.status is not ConnectorStatus.ERROR:
        return []
    detail = f"connector {connector.id} is in status error: {connector.error or 'no error text'}"
    if connector.last_sync_error and connector.last_sync_error != connector.error:
        detail += f"; its last sync failed: {connector.last_sync_error}"
    failed = await ctx.store.list_jobs(connector_id=connector.id, status=JobStatus.ERROR, size=1)
    trip = guard_trip_of(failed[0].metadata) if failed else None
    if trip is not None:
        return [guard_finding(connector.id, trip)]
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


def guard_finding(connector_id: str, trip: GuardTrip) -> Finding:
    """The last sync stopped itself rather than delete most of the index."""
    return Finding(
        "deletion_guard",
        "The deletion guard stopped the last sync",
        f"the last full sync of {connector_id} would have deleted {trip.stale:,} of the "
        f"index's {trip.indexed:,} documents ({trip.percent:.0f} %), over its limit of "
        f"{trip.max_percent:g} %: it deleted nothing, and the connector stays in error until "
        "a sync completes",
        trip.next_steps(connector_id),
        "certain",
    )


def connector_state_findings(ctx: Context) -> list[Finding]:
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
