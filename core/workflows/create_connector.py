"""Create a connector: content index, record, configuration, API key, config.yml entry —
all of it, or nothing.

`validate_new_connector` checks every input without I/O; `create_connector` checks it again,
looks at what the cluster holds (the index, other connectors using it), then writes step by
step, remembering each write. When a step fails, the writes made so far are undone in
reverse order: the API key invalidated, the record deleted, the index deleted — only an
index this run created, never one that existed before. The error says what failed and
whether anything is left behind (with how to remove it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch, TransportError

from sluice.core.config import ConfigDocument, ConfigError
from sluice.core.connector_api_key import (
    ApiKeyUnavailable,
    ConnectorApiKey,
    create_connector_api_key,
)
from sluice.core.content_index import ContentIndexError, create_content_index
from sluice.core.echo import quoted
from sluice.core.es.client import PRODUCT_ORIGIN_HEADER
from sluice.core.invocation import sluice_command
from sluice.core.protocol import (
    Connector,
    ConnectorNotFound,
    ConnectorStatus,
    ConnectorStore,
    ConnectorStoreError,
)
from sluice.core.protocol.es_errors import translated
from sluice.core.protocol.naming import index_name_problem
from sluice.core.workflows.storable import storage_problem
from sluice.core.workflows.undo import (
    config_write_problem,
    delete_index,
    invalidate_api_key,
    outcome,
)

#: `key -> message` for every invalid field of a configuration (sources.schema provides it).
Validator = Callable[[Mapping[str, Mapping[str, Any]]], Mapping[str, str]]

#: The connector's own fields, with the words a message uses for them.
_FIELDS = (
    ("service_type", "the service type"),
    ("name", "the name"),
    ("index_name", "the index name"),
    ("description", "the description"),
    ("language", "the language"),
)


@dataclass(frozen=True)
class NewConnector:
    """What to create. `configuration` is the source's whole schema with the values in
    (typed: booleans and integers, not text); `given` names the keys the user set — a bad
    value there is bad input, a required value missing elsewhere only leaves the connector
    `needs_configuration`."""

    service_type: str
    name: str
    index_name: str
    configuration: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    given: Sequence[str] = ()
    description: str | None = None
    language: str | None = None
    features: Mapping[str, Any] | None = None
    existing_index: bool = False  # attach an index that exists instead of creating it
    api_key: bool = False  # also create an API key scoped to this connector


@dataclass(frozen=True)
class CreatedConnector:
    connector: Connector
    status: ConnectorStatus
    index_created: bool
    missing: Mapping[str, str]  # key -> message, required values still to set
    api_key: ConnectorApiKey | None = None
    api_key_note: str | None = None  # why no key was made, where the cluster can't
    config_path: Path | None = None  # the config.yml the connector was added to


class InvalidConnectorInput(ValueError):
    """Bad input, found before any write. `field` is a connector field (`name`,
    `index_name`, ...) or a configuration key."""

    def __init__(self, field: str, message: str, *, setting: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.setting = setting  # True when `field` is a configuration key


class ConnectorNotCreated(Exception):
    """The cluster refused or a write failed; what was written has been undone, except
    `left_behind` (each entry says how to remove it). `code` tells callers which check
    failed: index_missing, index_exists, index_in_use, config_not_writable, write_failed."""

    def __init__(self, message: str, code: str, left_behind: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.left_behind = tuple(left_behind)


# ------------------------------------------------------------------ validation


def validate_new_connector(request: NewConnector, validate: Validator) -> dict[str, str]:
    """Check everything without I/O; raise InvalidConnectorInput naming the first bad field.
    Returns the required values still missing (`key -> message`)."""
    for name, words in _FIELDS:
        value = getattr(request, name)
        problem = storage_problem(value)
        if problem:
            raise InvalidConnectorInput(name, f"{words} {problem}")
    if not request.service_type.strip():
        raise InvalidConnectorInput("service_type", "the service type is empty")
    if not request.name.strip():
        raise InvalidConnectorInput(
            "name", "the name is empty; give the connector a name (Kibana lists it by name)"
        )
    problem = index_name_problem(request.index_name)
    if problem:
        raise InvalidConnectorInput("index_name", problem)
    configuration = request.configuration
    for key in request.given:
        if key not in configuration:
            known = ", ".join(sorted(configuration)) or "none"
            raise InvalidConnectorInput(
                key,
                f"unknown setting {quoted(key)} for service type {quoted(request.service_type)}; "
                f"known: {known}",
                setting=True,
            )
    for key, entry in configuration.items():
        problem = storage_problem(entry.get("value"))
        if problem:
            label = entry.get("label") or key
            raise InvalidConnectorInput(key, f"{quoted(label)} {problem}", setting=True)
    errors = dict(validate(configuration))
    for key in request.given:
        if key in errors:
            raise InvalidConnectorInput(key, errors[key], setting=True)
    return errors


def _check_writable(path: Path) -> None:
    """config.yml must be writable before the first write."""
    problem = config_write_problem(path)
    if problem is None:
        return
    raise ConnectorNotCreated(
        f"{path} cannot be written ({problem}) — fix that, or leave out adding the connector "
        "to config.yml",
        "config_not_writable",
    )


async def _check_cluster(
    client: AsyncElasticsearch, store: ConnectorStore, request: NewConnector
) -> None:
    """What the cluster holds must allow the request: read-only, before any write."""
    index = request.index_name
    users = await store.list_connectors(index_names=[index])
    if users:
        raise ConnectorNotCreated(
            f"index {quoted(index)} is used by another connector ({users[0].id}, "
            f"{quoted(users[0].name)}); choose another index name",
            "index_in_use",
        )
    with translated(f"checking index {quoted(index)}"):
        exists = bool(await client.indices.exists(index=index))
    if request.existing_index and not exists:
        raise ConnectorNotCreated(
            f"index {quoted(index)} does not exist; have it created with the connector",
            "index_missing",
        )
    if exists and not request.existing_index:
        raise ConnectorNotCreated(
            f"index {quoted(index)} already exists; attach it as an existing index, or "
            "choose another name",
            "index_exists",
        )


# ------------------------------------------------------------------ undo


@dataclass
class _Written:
    """What this run wrote, newest last, to undo in reverse."""

    client: AsyncElasticsearch
    store: ConnectorStore
    index: str | None = None
    connector_id: str | None = None
    api_key_id: str | None = None

    async def undo(self) -> tuple[list[str], list[str]]:
        """(what was removed, what is left behind with how to remove it)."""
        removed: list[str] = []
        left: list[str] = []
        if self.api_key_id:
            done, words = await invalidate_api_key(self.client, self.api_key_id)
            (removed if done else left).append(words)
        if self.connector_id:
            if await self._remove_record(self.connector_id):
                removed.append(f"connector record {self.connector_id}")
            else:
                left.append(
                    f"connector record {self.connector_id} (remove it with "
                    f"`{sluice_command()} connector delete {self.connector_id}`)"
                )
        if self.index:
            done, words = await delete_index(self.client, self.index)
            (removed if done else left).append(words)
        return removed, left

    async def _remove_record(self, connector_id: str) -> bool:
        """Delete the record outright (direct access, as Elastic's own tools may), else
        soft-delete it the protocol's way (`deleted: true`, hidden from every list)."""
        names = getattr(self.store, "names", None)
        if names is not None:
            direct = self.client.options(headers=PRODUCT_ORIGIN_HEADER)
            try:
                await direct.delete(index=names.connectors, id=connector_id, refresh=True)
                return True
            except (ApiError, TransportError):
                pass  # refused (a cluster without direct access): the store's way then
        try:
            await self.store.delete_connector(connector_id)
        except ConnectorNotFound:
            return True  # already gone
        except ConnectorStoreError:
            return False
        return True


def failure_words(exc: Exception) -> str:
    """A failed step in words (store errors are worded already, without bodies)."""
    if isinstance(exc, ConfigError):
        return "; ".join(str(p) for p in (exc.errors or exc.problems)) or str(exc)
    if isinstance(exc, OSError):
        return f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc.strerror or exc)
    return str(exc)


# ------------------------------------------------------------------ the workflow


async def create_connector(
    client: AsyncElasticsearch,
    store: ConnectorStore,
    request: NewConnector,
    *,
    validate: Validator,
    config_document: ConfigDocument | None = None,
) -> CreatedConnector:
    """Create the connector as asked, or nothing. Raises InvalidConnectorInput (bad input,
    nothing written) or ConnectorNotCreated (the cluster refused or a write failed; the
    writes were undone — the message says so, or what is left behind)."""
    missing = validate_new_connector(request, validate)
    if config_document is not None and config_document.path is not None:
        _check_writable(config_document.path)
    await _check_cluster(client, store, request)

    written = _Written(client, store)
    try:
        if not request.existing_index:
            # the one function every front end and the engine create content indices with
            with translated(f"creating index {quoted(request.index_name)}"):
                created = await create_content_index(
                    client, request.index_name, language=request.language
                )
            if not created:  # someone created it since the check: theirs, never undone
                raise ConnectorNotCreated(
                    f"index {quoted(request.index_name)} was created meanwhile by someone "
                    "else; attach it as an existing index, or choose another name",
                    "index_exists",
                )
            written.index = request.index_name
        connector = await store.create_connector(
            index_name=request.index_name,
            service_type=request.service_type,
            name=request.name,
            description=request.description,
            language=request.language,
            features=request.features,
        )
        written.connector_id = connector.id
        if request.configuration:
            status = ConnectorStatus.NEEDS_CONFIGURATION if missing else ConnectorStatus.CONFIGURED
            await store.update_configuration(
                connector.id, schema=request.configuration, status=status
            )
        else:  # a type run by Elastic's service: its schema arrives when the service checks in
            status = ConnectorStatus.CREATED
        api_key, api_key_note = None, None
        if request.api_key:
            try:
                with translated("creating the connector's API key"):
                    api_key = await create_connector_api_key(
                        client, connector_name=request.name, index_name=request.index_name
                    )
            except ApiKeyUnavailable as exc:
                api_key_note = str(exc)
            else:
                written.api_key_id = api_key.id
                await store.update_api_key_id(connector.id, api_key.id)
        saved = None
        if config_document is not None:
            config_document.upsert_connector(
                connector.id, request.service_type, api_key.encoded if api_key else None
            )
            try:
                saved = config_document.save()
            except BaseException:
                config_document.remove_connector(connector.id)
                raise
    except (ConnectorStoreError, ContentIndexError, ConfigError, OSError) as exc:
        removed, left = await written.undo()
        raise ConnectorNotCreated(
            outcome(failure_words(exc), removed, left), "write_failed", left
        ) from None
    except BaseException as exc:  # Ctrl-C, or a bug: undo, then let it through
        removed, left = await written.undo()
        if left:
            exc.add_note("sluice: left behind: " + ", ".join(left))
        raise
    return CreatedConnector(
        connector=connector,
        status=status,
        index_created=written.index is not None,
        missing=missing,
        api_key=api_key,
        api_key_note=api_key_note,
        config_path=saved,
    )


async def create_draft_connector(
    client: AsyncElasticsearch,
    store: ConnectorStore,
    *,
    service_type: str,
    name: str,
    configuration: Mapping[str, Mapping[str, Any]],
    description: str | None = None,
    features: Mapping[str, Any] | None = None,
) -> Connector:
    """The record as Kibana creates it first — no index yet (`connect_index` attaches one),
    the source's configuration, `needs_configuration` (or, for a type only Elastic's service
    runs, no configuration and `created`: the service writes its schema) — for a front end
    that builds a connector step by step (the wizard). Same checks and the same record as
    `create_connector`; when the configuration can't be written the record is removed
    again. Raises InvalidConnectorInput or ConnectorNotCreated."""
    for field_name, words, value in (
        ("name", "the name", name),
        ("description", "the description", description),
    ):
        problem = storage_problem(value)
        if problem:
            raise InvalidConnectorInput(field_name, f"{words} {problem}")
    if not name.strip():
        raise InvalidConnectorInput(
            "name", "the name is empty; give the connector a name (Kibana lists it by name)"
        )
    written = _Written(client, store)
    try:
        connector = await store.create_connector(
            # Kibana too creates it without an index
            index_name=None,  # type: ignore[arg-type]
            service_type=service_type,
            name=name,
            description=description,
            features=features,
        )
        written.connector_id = connector.id
        if configuration:  # else: `created`, empty, until the service writes its schema
            await store.update_configuration(
                connector.id, schema=configuration, status=ConnectorStatus.NEEDS_CONFIGURATION
            )
    except ConnectorStoreError as exc:
        removed, left = await written.undo()
        raise ConnectorNotCreated(
            outcome(failure_words(exc), removed, left), "write_failed", left
        ) from None
    return await store.get_connector(connector.id) or connector
