"""The records an explanation reads, gathered once: the target resolved from its id, the
connector's open jobs, the service that should run it, the clock — so every finding names the
same facts."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sluice.core.deployment import TARGETS
from sluice.core.invocation import sluice_command
from sluice.core.protocol.checkin import CheckinReading
from sluice.core.protocol.models import (
    ACTIVE_STATUSES,
    CLAIMABLE_STATUSES,
    Connector,
    JobType,
    SyncJob,
)
from sluice.core.protocol.store import ConnectorStore
from sluice.core.workflows.explain.model import UnknownTarget, span

#: Connector families: the jobs that share one `last_*sync_status` lock.
FAMILIES: tuple[tuple[JobType, tuple[JobType, ...], str], ...] = (
    (JobType.FULL, (JobType.FULL, JobType.INCREMENTAL), "content"),
    (JobType.ACCESS_CONTROL, (JobType.ACCESS_CONTROL,), "access-control"),
)


@dataclass(frozen=True)
class Context:
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


def ago(ctx: Context, moment: datetime | None) -> str:
    return "never" if moment is None else f"{span(ctx.now - moment)} ago"


def family_of(job: SyncJob) -> JobType:
    return JobType.ACCESS_CONTROL if job.job_type is JobType.ACCESS_CONTROL else JobType.FULL


def family_types(family: JobType) -> tuple[JobType, ...]:
    return next(types for first, types, _ in FAMILIES if first is family)


async def resolve(
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


async def read_open_jobs(store: ConnectorStore, connector_id: str) -> list[SyncJob]:
    """The connector's jobs that are not over, oldest first."""
    return await store.find_jobs(
        statuses=CLAIMABLE_STATUSES | ACTIVE_STATUSES, connector_ids=[connector_id], size=100
    )


def choose_runner(
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
