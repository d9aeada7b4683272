"""One Elasticsearch connection and its connector store, held for an interactive front end's
screen (opened once, closed with `close()` or `async with`), with the connector and job
operations a screen asks for. A read-only cluster never creates the connector indices: the
monitor must not write."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from sluice.core import content_index, protocol
from sluice.core.checks import run_checks
from sluice.core.config import ConfigDocument
from sluice.core.es import build_client
from sluice.core.protocol import Connector, ConnectorStore, JobType, SyncJob, open_store
from sluice.core.protocol.open import backend_preference
from sluice.core.workflows.connect_index import ConnectedIndex, IndexConnection, connect_index
from sluice.core.workflows.create_connector import create_draft_connector


class Cluster:
    """One Elasticsearch connection and its connector store, for a screen's lifetime."""

    def __init__(
        self,
        settings: Mapping[str, Any],
        *,
        read_only: bool = False,
        user_agent: str = "sluice-tui",
    ) -> None:
        self.settings = dict(settings)
        self.read_only = read_only
        self.client = build_client(self.settings, user_agent=user_agent)
        self._store: ConnectorStore | None = None

    async def store(self) -> ConnectorStore:
        """The connector store; read-only clusters never get the connector indices created
        (the monitor must not write)."""
        if self._store is None:
            if self.read_only:
                wanted = backend_preference(self.settings)
                if wanted != "index" and await protocol.connector_api_available(self.client):
                    self._store = protocol.ApiConnectorStore(self.client)
                else:
                    self._store = protocol.IndexConnectorStore(self.client)
            else:
                self._store = await open_store(self.client, es_settings=self.settings)
        return self._store

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            if self._store is not None:
                await self._store.close()
        with contextlib.suppress(Exception):
            await self.client.close()

    async def __aenter__(self) -> Cluster:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def backend(self) -> str:
        """ "api" (Connector API) or "index" (direct index access), once the store is open."""
        return self._store.backend if self._store is not None else ""

    # connectors ------------------------------------------------------------------------
    async def list_connectors(self) -> list[Connector]:
        return await (await self.store()).list_connectors()

    async def get_connector(self, connector_id: str) -> Connector | None:
        return await (await self.store()).get_connector(connector_id)

    async def create_connector(
        self,
        *,
        service_type: str,
        name: str,
        description: str | None,
        features: Mapping[str, Any] | None,
        configuration: Mapping[str, Mapping[str, Any]],
    ) -> Connector:
        """Create the record as Kibana does (no index yet: step 6 attaches it); the source's
        `features()` and `default_configuration()` come from the caller (core never imports
        sources)."""
        return await create_draft_connector(
            self.client,
            await self.store(),
            service_type=service_type,
            name=name,
            description=description or None,
            features=dict(features) if features is not None else None,
            configuration=dict(configuration),
        )

    async def version(self) -> str | None:
        """The cluster's version number, or None when it can't be asked."""
        from sluice.core.workflows.deploy import cluster_version

        return await cluster_version(self.client)

    async def rename_connector(self, connector_id: str, name: str, description: str) -> None:
        await (await self.store()).update_name(connector_id, name=name, description=description)

    async def save_configuration(
        self, connector_id: str, configuration: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Store the values with status `configured`, which a connector service answers by
        validating them (`connected`, or `error` with the reason)."""
        await (await self.store()).update_configuration(connector_id, schema=configuration)

    # jobs ------------------------------------------------------------------------------
    async def list_jobs(self, connector_id: str | None = None, size: int = 20) -> list[SyncJob]:
        return await (await self.store()).list_jobs(connector_id=connector_id, size=size)

    async def get_job(self, job_id: str) -> SyncJob | None:
        return await (await self.store()).get_job(job_id)

    async def create_job(self, connector_id: str, job_type: str = "full") -> str:
        return await (await self.store()).create_job(connector_id, JobType(job_type))

    async def request_cancel(self, job_id: str) -> None:
        await (await self.store()).request_cancel(job_id)

    async def resumable_job(self, connector_id: str) -> SyncJob | None:
        """The connector's suspended (or silent in_progress) job, to offer resuming it."""
        return await protocol.resumable_job(await self.store(), connector_id)

    async def make_resumable(self, job_id: str) -> str:
        """Let a service claim the interrupted job (a silent in_progress one is suspended)."""
        store = await self.store()
        job = await store.get_job(job_id)
        if job is not None:
            await protocol.make_resumable(store, job)
        return job_id

    async def discard_job(self, job_id: str) -> None:
        """Cancel an interrupted job the user chose not to resume."""
        store = await self.store()
        job = await store.get_job(job_id)
        if job is not None:
            await protocol.discard_job(store, job)

    # indices ---------------------------------------------------------------------------
    async def list_indices(self) -> list[str]:
        """Names of the regular (non-dot) indices."""
        return await content_index.list_content_indices(self.client)

    async def create_index(self, name: str, language: str | None) -> bool:
        """Create the content index; False when it already existed."""
        return await content_index.create_content_index(self.client, name, language=language)

    async def index_checks(self, name: str) -> list[Any]:
        """The cluster checks about an index name/existing index (ok/warn/fail results)."""
        results = []
        async for result in run_checks(self.settings, index_name=name, client=self.client):
            if result.id in ("index_name", "index"):
                results.append(result)
        return results

    async def connect_index(
        self, request: IndexConnection, config_document: ConfigDocument | None
    ) -> ConnectedIndex:
        """The connect-index workflow (index, API key, secret, config.yml entry — or
        nothing): raises `InvalidConnectorInput` or `IndexNotConnected`."""
        return await connect_index(
            self.client, await self.store(), request, config_document=config_document
        )
