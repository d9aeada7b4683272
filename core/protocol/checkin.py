"""Has a connector service checked in for this connector, and where is the record in its
life (`created` → `needs_configuration` → `configured` → `connected` | `error`)?

A front end polls `read_checkin` and shows the phase; a silence is handed to the service
doctor (`core.checks.service_doctor`). Read-only: watching never writes a record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sluice.core.protocol import Connector

#: A heartbeat older than this means the service that wrote it is gone. Elastic's service
#: checks in every `service.heartbeat` (300 s by default) and at start.
STALE_AFTER = timedelta(minutes=10)


class CheckinPhase(StrEnum):
    MISSING = "missing"  # no record (deleted, or another cluster)
    WAITING = "waiting"  # no service has checked in (or its heartbeat is stale)
    NEEDS_CONFIGURATION = "needs_configuration"  # the schema is there, values are not
    CONFIGURED = "configured"  # values saved, the service has not judged them yet
    CONNECTED = "connected"  # the service reached the source
    ERROR = "error"  # the service could not: `error` says why


@dataclass(frozen=True)
class CheckinReading:
    """One look at the record, for a screen or a CLI line."""

    phase: CheckinPhase
    status: str
    last_seen: datetime | None
    error: str | None
    has_schema: bool
    service_type: str | None = None
    #: the last heartbeat is older than STALE_AFTER (or there is none)
    stale: bool = True

    @property
    def checked_in(self) -> bool:
        return self.phase not in (CheckinPhase.MISSING, CheckinPhase.WAITING)

    @property
    def service_alive(self) -> bool:
        """A service checked in lately: its verdicts are current."""
        return self.checked_in and not self.stale

    def last_seen_words(self, now: datetime | None = None) -> str:
        """'never', '12 s ago', '3 min ago', '2 h ago'."""
        if self.last_seen is None:
            return "never"
        seconds = max(0, int(((now or datetime.now(UTC)) - self.last_seen).total_seconds()))
        if seconds < 90:
            return f"{seconds} s ago"
        if seconds < 5400:
            return f"{seconds // 60} min ago"
        return f"{seconds // 3600} h ago"


def read_checkin(connector: Connector | None, now: datetime | None = None) -> CheckinReading:
    """The phase of `connector` as the service left it."""
    if connector is None or connector.deleted:
        return CheckinReading(CheckinPhase.MISSING, "", None, None, False)
    now = now or datetime.now(UTC)
    status = str(connector.status or connector.get("status") or "")
    last_seen = connector.last_seen
    has_schema = bool(connector.configuration)
    fresh = last_seen is not None and now - last_seen <= STALE_AFTER
    if status == "error":
        phase = CheckinPhase.ERROR
    elif status == "connected":
        phase = CheckinPhase.CONNECTED
    elif status == "configured":
        phase = CheckinPhase.CONFIGURED
    elif has_schema and (fresh or (status == "needs_configuration" and last_seen is not None)):
        phase = CheckinPhase.NEEDS_CONFIGURATION
    else:
        phase = CheckinPhase.WAITING
    if phase is CheckinPhase.CONFIGURED and not fresh:
        phase = CheckinPhase.WAITING  # saved values, but no live service to judge them
    return CheckinReading(
        phase,
        status,
        last_seen,
        connector.error,
        has_schema,
        connector.service_type,
        stale=not fresh,
    )
