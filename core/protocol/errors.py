"""What can go wrong talking to the connector store, as exceptions with readable messages.

Every message names the object and the problem, and where it helps, the fix; callers (CLI,
TUI, service) show `str(exc)` as is.
"""

from __future__ import annotations


class ConnectorStoreError(Exception):
    """Base class: a connector-store operation failed."""


class StoreUnavailable(ConnectorStoreError):
    """Elasticsearch could not be reached or refused the request as a whole."""


class NotFound(ConnectorStoreError):
    pass


class ConnectorNotFound(NotFound):
    def __init__(self, connector_id: str) -> None:
        super().__init__(
            f"connector {connector_id!r} not found (it does not exist or was deleted); "
            "list connectors with `sluice connector list`"
        )
        self.connector_id = connector_id


class JobNotFound(NotFound):
    def __init__(self, job_id: str) -> None:
        super().__init__(
            f"sync job {job_id!r} not found; list jobs with `sluice job list CONNECTOR_ID`"
        )
        self.job_id = job_id


class InvalidRequest(ConnectorStoreError):
    """The request breaks a rule of the protocol (Elasticsearch answers 400 to the same)."""


class InvalidTransition(InvalidRequest):
    """A status change the protocol's state machine does not allow."""

    def __init__(self, what: str, current: str | None, target: str) -> None:
        super().__init__(f"{what}: cannot go from status [{current}] to [{target}]")
        self.current = current
        self.target = target


class TooManyConflicts(ConnectorStoreError):
    """A document kept changing under a read-modify-write; something writes it in a loop."""
