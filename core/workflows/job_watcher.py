"""Watch a job a service runs: its record read again and again through ONE client and store,
opened on the first read and kept until `close()` — a screen refreshing every 2 s must not
build a client (and a connection pool) per read."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from elasticsearch import AsyncElasticsearch

from sluice.core.engine.progress import RateMeter
from sluice.core.engine.runner import job_guard_trip, job_reconciliation
from sluice.core.es import build_client
from sluice.core.protocol import (
    ConnectorStore,
    JobType,
    SyncJob,
    TriggerMethod,
    open_store,
)
from sluice.core.workflows.job_progress import snapshot_from_job
from sluice.core.workflows.sync_reading import SyncReading


class JobWatcher:
    """Readings of one job from its record; the rate is measured between reads."""

    def __init__(
        self, settings: Mapping[str, Any], job_id: str, *, user_agent: str = "sluice-tui"
    ) -> None:
        self.settings = dict(settings)
        self.job_id = job_id
        self.user_agent = user_agent
        self._client: AsyncElasticsearch | None = None
        self._store: ConnectorStore | None = None
        self._rate = RateMeter(window=20.0)

    async def _open(self) -> ConnectorStore:
        if self._client is None:
            self._client = build_client(self.settings, user_agent=self.user_agent)
        if self._store is None:
            self._store = await open_store(self._client, es_settings=self.settings)
        return self._store

    async def job(self) -> SyncJob | None:
        """The job's record now (None: not found)."""
        return await (await self._open()).get_job(self.job_id)

    async def read(self) -> SyncReading | None:
        """The job as a reading (None: not found). Raises what the client raises."""
        job = await self.job()
        if job is None:
            return None
        rate = self._rate.sample(time.monotonic(), int(job.indexed_document_count or 0))
        return SyncReading(
            status=str(job.status or "pending"),
            snapshot=snapshot_from_job(job, docs_per_second=rate),
            job_id=self.job_id,
            reconciliation=job_reconciliation(job.metadata),
            deletion_guard=job_guard_trip(job.metadata),
        )

    async def confirm_deletions(self, count: int) -> str:
        """Queue a new full job of the same connector that may delete up to `count`
        documents (the deletion guard stopped this one); its id. The confirmation rides in
        the job's `metadata.sluice.confirm_deletions`, which the service reads when it
        claims the job, and again before its guard would stop the sync (a service quicker
        than this write still sees it)."""
        store = await self._open()
        job = await store.get_job(self.job_id)
        if job is None or not job.connector_id:
            raise LookupError(f"job {self.job_id} is gone: start a sync from the wizard")
        new_id = await store.create_job(job.connector_id, JobType.FULL, TriggerMethod.ON_DEMAND)
        await store.update_job_stats(new_id, metadata={"sluice": {"confirm_deletions": int(count)}})
        return new_id

    async def cancel(self) -> None:
        """Ask the service to cancel the job (it ends `canceled` once the service sees it)."""
        await (await self._open()).request_cancel(self.job_id)

    @property
    def is_open(self) -> bool:
        """A client is held (between the first read and `close()`)."""
        return self._client is not None

    async def close(self) -> None:
        client, self._client, self._store = self._client, None, None
        if client is not None:
            await client.close()
