"""The connector service loop: check in, validate, schedule, run and clean up jobs.

Several instances may run against one cluster: every write that must happen once (claiming a
job, creating a scheduled job, failing a stale one) goes through the protocol layer's
optimistic locking, so two `sluice run` processes never run the same job twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from elasticsearch import AsyncElasticsearch
from elasticsearch.exceptions import ApiError, TransportError

from sluice.core.config import Config
from sluice.core.config.typed import ServiceSettings
from sluice.core.engine.engine import StopSignal
from sluice.core.engine.orphans import remove_orphans
from sluice.core.engine.runner import SourceFactory, run_job
from sluice.core.engine.settings import EngineSettings
from sluice.core.es import build_client
from sluice.core.protocol import (
    Connector,
    ConnectorStatus,
    ConnectorStore,
    ConnectorStoreError,
    SyncJob,
    WorkerIdentity,
    cleanup_stale_jobs,
    create_due_scheduled_jobs,
    open_store,
    pending_jobs,
    recover_dead_jobs,
)

log = logging.getLogger("sluice.service")

_SERVICE = ServiceSettings.from_mapping(None)

#: The default configuration (schema) of a service type, for connectors created empty.
SchemaProvider = Callable[[str], Mapping[str, Any]]
#: True when this service has a source for a `service_type` (sources.registry.runs_in_sluice).
TypeFilter = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """The `service` section of config.yml the loop acts on, with Elastic's key names. The
    defaults are an empty config's (`core.config.defaults`), not restated here."""

    idling: float = _SERVICE.idling
    heartbeat: float = _SERVICE.heartbeat
    max_concurrent_content_syncs: int = _SERVICE.max_concurrent_content_syncs
    job_cleanup_interval: float = _SERVICE.job_cleanup_interval

    @classmethod
    def from_settings(cls, service: ServiceSettings) -> ServiceOptions:
        return cls(
            idling=service.idling,
            heartbeat=service.heartbeat,
            max_concurrent_content_syncs=service.max_concurrent_content_syncs,
            job_cleanup_interval=service.job_cleanup_interval,
        )

    @classmethod
    def from_config(cls, service: Mapping[str, Any]) -> ServiceOptions:
        """Build from a raw `service` mapping (missing keys take the defaults)."""
        return cls.from_settings(ServiceSettings.from_mapping(service))


@dataclass
class _RunningJob:
    job: SyncJob
    stop: StopSignal
    task: asyncio.Task[Any]


class ConnectorService:
    """Runs the connectors listed in config.yml until `stop` is set."""

    def __init__(
        self,
        config: Config,
        source_factory: SourceFactory,
        *,
        schema_provider: SchemaProvider | None = None,
        runs_type: TypeFilter | None = None,
        hostname: str | None = None,
    ) -> None:
        self.config = config
        self.source_factory = source_factory
        self.schema_provider = schema_provider
        self.runs_type = runs_type
        #: connector ids already reported as left to Elastic's service (said once, not per tick)
        self._left_alone: set[str] = set()
        self.hostname = hostname or socket.gethostname()
        #: This instance, recorded on every job it claims: two services on one host share
        #: `worker_hostname`, never this.
        self.identity = WorkerIdentity.new(self.hostname)
        settings = config.settings
        self.options = ServiceOptions.from_settings(settings.service)
        self.engine_settings = EngineSettings.from_bulk(settings.bulk)
        self.running: dict[str, _RunningJob] = {}
        self.finished_jobs: list[tuple[str, str]] = []  # (job id, status), for tests and logs
        self._client: AsyncElasticsearch | None = None
        self._content_clients: dict[str, AsyncElasticsearch] = {}
        self._store: ConnectorStore | None = None
        self._last_check_in = 0.0
        self._last_cleanup = 0.0
        # connector id -> (hash of the configuration validated, when)
        self._validated: dict[str, tuple[str, float]] = {}

    @property
    def connector_ids(self) -> list[str]:
        return [entry["connector_id"] for entry in self.config.connectors]

    async def run(self, stop: asyncio.Event) -> None:
        """The service's life: connect, loop every `idling` seconds, and on `stop` suspend
        the running jobs (they resume on the next start) before returning."""
        remove_orphans()  # temporary ledgers of syncs killed before they could clean up
        self._client = build_client(self.config.elasticsearch, user_agent="sluice-service")
        try:
            self._store = await open_store(self._client, es_settings=self.config.elasticsearch)
            log.info(
                "service started on %s for %d connector(s): %s",
                self.identity.describe(),
                len(self.connector_ids),
                ", ".join(self.connector_ids),
            )
            while not stop.is_set():
                try:
                    await self.tick()
                except (ApiError, TransportError, ConnectorStoreError) as exc:
                    log.error(
                        "Elasticsearch is unavailable (%s); retrying in %.0f s",
                        exc,
                        self.options.idling,
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.options.idling)
        finally:
            await self._suspend_all()
            for client in self._content_clients.values():
                await client.close()
            await self._client.close()
            log.info("service stopped")

    async def tick(self) -> None:
        """One pass of every loop of the service."""
        store = self._require_store()
        now = time.monotonic()
        connectors = await self._load_connectors()
        log.debug(
            "tick: %d connector(s) read, %d job(s) running here", len(connectors), len(self.running)
        )
        if now - self._last_check_in >= self.options.heartbeat or not self._last_check_in:
            for connector in connectors:
                await store.check_in(connector.id)
            self._last_check_in = now
        for connector in connectors:
            await self._validate(connector)
            for job_id in await create_due_scheduled_jobs(store, connector):
                log.info("connector %s: scheduled job %s queued", connector.id, job_id)
        if now - self._last_cleanup >= self.options.job_cleanup_interval or not self._last_cleanup:
            ours = [c for c in self.connector_ids if c not in self._left_alone]
            for job_id in await recover_dead_jobs(store, ours, self.identity.host):
                log.warning(
                    "job %s was left running by a killed instance on this host: resuming it",
                    job_id,
                )
            failed = await cleanup_stale_jobs(store, connector_ids=ours)
            for job_id in failed:
                log.warning("job %s had no heartbeat for too long: marked as failed", job_id)
            self._last_cleanup = now
        await self._start_pending_jobs({c.id: c for c in connectors})

    # ------------------------------------------------------------------ connectors

    def _require_store(self) -> ConnectorStore:
        if self._store is None:
            raise RuntimeError("the service is not connected; call run()")
        return self._store

    async def _load_connectors(self) -> list[Connector]:
        store = self._require_store()
        found = []
        for connector_id in self.connector_ids:
            connector = await store.get_connector(connector_id)
            if connector is None:
                log.error(
                    "connector %s (config.yml) does not exist in Elasticsearch; create it with "
                    "`sluice connector create` or in Kibana, or remove it from config.yml",
                    connector_id,
                )
                continue
            service_type = str(connector.service_type or "")
            if self.runs_type is not None and service_type and not self.runs_type(service_type):
                if connector.id not in self._left_alone:
                    self._left_alone.add(connector.id)
                    log.warning(
                        "connector %s has type %r, which Sluice's engine does not run: "
                        "Elastic's connector service runs it (`sluice deploy %s`); this "
                        "service leaves it alone",
                        connector.id,
                        service_type,
                        connector.id,
                    )
                continue
            found.append(connector)
        return found

    async def _validate(self, connector: Connector) -> None:
        """Write the schema of an empty connector; check a configured one's source
        (`connected` or `error` with the reason) whenever its configuration changes."""
        store = self._require_store()
        if not connector.configuration:
            if self.schema_provider is not None and connector.service_type:
                schema = self.schema_provider(str(connector.service_type))
                await store.update_configuration(
                    connector.id, schema=schema, status=ConnectorStatus.NEEDS_CONFIGURATION
                )
                log.info("connector %s: configuration schema written; fill it in", connector.id)
            return
        digest = hashlib.sha256(
            orjson.dumps(connector.configuration, option=orjson.OPT_SORT_KEYS, default=str)
        ).hexdigest()
        checked = self._validated.get(connector.id)
        if checked is not None and checked[0] == digest:
            # unchanged: check again only a failing source, once per heartbeat
            if connector.status is not ConnectorStatus.ERROR:
                return
            if time.monotonic() - checked[1] < self.options.heartbeat:
                return
        self._validated[connector.id] = (digest, time.monotonic())
        error = await self._check_source(connector)
        if error is None:
            if connector.status is not ConnectorStatus.CONNECTED or connector.error:
                await store.update_status(connector.id, ConnectorStatus.CONNECTED)
                await store.update_error(connector.id, None)
                log.info("connector %s: source reachable, status connected", connector.id)
        else:
            await store.update_status(connector.id, ConnectorStatus.ERROR)
            await store.update_error(connector.id, error)
            log.error("connector %s: %s", connector.id, error)

    async def _check_source(self, connector: Connector) -> str | None:
        try:
            source = self.source_factory(str(connector.service_type), connector.configuration)
        except Exception as exc:
            return f"cannot start the {connector.service_type!r} source: {exc}"
        try:
            for step in ("validate_config", "ping"):
                method = getattr(source, step, None)
                if method is not None:
                    await method()
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            with contextlib.suppress(Exception):
                await source.close()
        return None

    # ------------------------------------------------------------------ jobs

    async def _start_pending_jobs(self, connectors: Mapping[str, Connector]) -> None:
        store = self._require_store()
        self._reap()
        room = self.options.max_concurrent_content_syncs - len(self.running)
        if room <= 0:
            return
        for job in await pending_jobs(store, list(connectors)):
            if room <= 0:
                break
            if job.id in self.running:
                continue
            stop = StopSignal()
            entry = self.config.connector(str(job.connector_id)) or {}
            task = asyncio.create_task(self._run_job(job, stop, entry))
            self.running[job.id] = _RunningJob(job, stop, task)
            room -= 1

    async def _run_job(self, job: SyncJob, stop: StopSignal, entry: Mapping[str, Any]) -> None:
        store = self._require_store()
        try:
            result = await run_job(
                store,
                self._content_client(entry),
                job,
                self.source_factory,
                settings=self.engine_settings,
                stop=stop,
                worker_hostname=self.hostname,
                worker=self.identity,
            )
        except Exception:
            log.exception("job %s crashed", job.id)
            self.finished_jobs.append((job.id, "crashed"))
            return
        if result is None:
            log.debug("job %s: claimed by another worker", job.id)
            return
        c = result.counters
        log.info(
            "job %s (%s, connector %s): %s in %.1f s — %d indexed, %d updated, %d deleted, "
            "%d skipped, %d failed%s",
            job.id,
            job.job_type,
            job.connector_id,
            result.status,
            result.elapsed,
            c.indexed,
            c.updated,
            c.deleted,
            c.skipped,
            c.failed,
            f" — {result.error}" if result.error else "",
        )
        self.finished_jobs.append((job.id, str(result.status)))

    def _content_client(self, entry: Mapping[str, Any]) -> AsyncElasticsearch:
        """A connector with its own `api_key` in config.yml writes content with that key
        (Elastic's least-privilege setup); others use the service's connection."""
        assert self._client is not None
        api_key = entry.get("api_key")
        if not api_key:
            return self._client
        connector_id = str(entry["connector_id"])
        if connector_id not in self._content_clients:
            settings = dict(self.config.elasticsearch)
            settings.pop("username", None)
            settings.pop("password", None)
            settings["api_key"] = api_key
            self._content_clients[connector_id] = build_client(
                settings, user_agent="sluice-service"
            )
        return self._content_clients[connector_id]

    def _reap(self) -> None:
        for job_id in [j for j, r in self.running.items() if r.task.done()]:
            del self.running[job_id]

    async def _suspend_all(self) -> None:
        """On stop: suspend the jobs still running. A job that ended since the last tick is
        still listed in `running` (only the next tick reaps it), so it is reaped first: the
        log must count running jobs only."""
        self._reap()
        if not self.running:
            log.info("no job running")
            return
        log.info("suspending %d running job(s); they resume on the next start", len(self.running))
        for running in self.running.values():
            running.stop.suspend()
        await asyncio.gather(*(r.task for r in self.running.values()), return_exceptions=True)
        self.running.clear()
