"""The status state machines Elasticsearch's Connector API enforces.

The index backend checks the same rules, so a transition that works against the indices also
works against the API (and Kibana never sees a status sequence it does not expect).
"""

from __future__ import annotations

from sluice.core.protocol.errors import InvalidTransition
from sluice.core.protocol.models import ConnectorStatus, JobStatus

_C = ConnectorStatus
CONNECTOR_TRANSITIONS: dict[ConnectorStatus, frozenset[ConnectorStatus]] = {
    _C.CREATED: frozenset({_C.NEEDS_CONFIGURATION, _C.ERROR}),
    _C.NEEDS_CONFIGURATION: frozenset({_C.CONFIGURED}),
    _C.CONFIGURED: frozenset({_C.NEEDS_CONFIGURATION, _C.CONNECTED, _C.ERROR}),
    _C.CONNECTED: frozenset({_C.CONFIGURED, _C.ERROR}),
    _C.ERROR: frozenset({_C.CONNECTED, _C.CONFIGURED}),
}

_J = JobStatus
JOB_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    _J.PENDING: frozenset({_J.IN_PROGRESS, _J.CANCELED}),
    _J.IN_PROGRESS: frozenset({_J.CANCELING, _J.COMPLETED, _J.SUSPENDED, _J.ERROR}),
    _J.COMPLETED: frozenset(),
    _J.SUSPENDED: frozenset({_J.IN_PROGRESS, _J.CANCELED}),
    _J.CANCELING: frozenset({_J.CANCELED, _J.ERROR}),
    _J.CANCELED: frozenset(),
    _J.ERROR: frozenset(),
}


def check_connector_transition(
    connector_id: str, current: ConnectorStatus | None, target: ConnectorStatus
) -> None:
    if current == target:
        return
    if current is None or target not in CONNECTOR_TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(f"connector {connector_id!r}", current, target)


def check_job_transition(job_id: str, current: JobStatus | None, target: JobStatus) -> None:
    if current is None or target not in JOB_TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(f"sync job {job_id!r}", current, target)
