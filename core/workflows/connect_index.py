"""Connect a connector to its content index — and, when asked, give it an API key of its own,
put that key where the user keeps secrets and save it in config.yml — all of it, or nothing.

This is the wizard's last writing step (the record exists already, created the way Kibana
does, without an index). The order matters: the fresh API key is shown by Elasticsearch
once, so it is stored (keyring / env file / config.yml) before anything can fail after it;
and when a later step fails — config.yml can't be saved, the keyring refuses — the key is
invalidated, so no valid key is left recorded nowhere. Every undo step reports what it removed
or what it left behind with how to remove it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from elasticsearch import AsyncElasticsearch

from sluice.core import secrets
from sluice.core.config import ConfigDocument, ConfigError
from sluice.core.connector_api_key import (
    ApiKeyUnavailable,
    ConnectorApiKey,
    create_connector_api_key,
)
from sluice.core.content_index import ContentIndexError, create_content_index
from sluice.core.echo import quoted
from sluice.core.envfile import set_env_value
from sluice.core.protocol import ConnectorStore, ConnectorStoreError
from sluice.core.protocol.es_errors import translated
from sluice.core.protocol.naming import index_name_problem
from sluice.core.workflows.create_connector import InvalidConnectorInput, failure_words
from sluice.core.workflows.storable import storage_problem
from sluice.core.workflows.undo import (
    config_write_problem,
    delete_index,
    invalidate_api_key,
    outcome,
)

SecretPlacement = secrets.SecretPlacement


def connector_key_secret(connector_id: str) -> str:
    """Keyring entry / env variable stem of a connector's own API key."""
    return f"connector-{connector_id}-api-key"


@dataclass(frozen=True)
class IndexConnection:
    """What to connect. `existing_index`: True attaches an index that must exist, False
    creates one that must not, None creates it unless it exists (the wizard checked it and
    showed the user which)."""

    connector_id: str
    service_type: str
    index_name: str
    connector_name: str = ""  # names the API key
    language: str | None = None
    existing_index: bool | None = None
    api_key: bool = False
    placement: SecretPlacement = SecretPlacement.KEYRING
    #: With `placement=ENV`: the EnvironmentFile (0600) that gets `SLUICE_...=<key>`, since
    #: Elasticsearch shows a new key only once.
    env_file: Path | None = None


@dataclass(frozen=True)
class ConnectedIndex:
    index_name: str
    index_created: bool
    api_key: ConnectorApiKey | None = None
    reference: str | None = None  # what config.yml holds for the key
    env_file: Path | None = None
    config_path: Path | None = None


class IndexNotConnected(Exception):
    """The cluster refused or a write failed; what was written has been undone, except
    `left_behind` (each entry says how to remove it). `code`: connector_missing,
    index_missing, index_exists, index_in_use, config_not_writable, no_api_key,
    write_failed."""

    def __init__(self, message: str, code: str, left_behind: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.left_behind = left_behind


def _validate(request: IndexConnection) -> None:
    for name in ("index_name", "connector_name", "language"):
        problem = storage_problem(getattr(request, name))
        if problem:
            raise InvalidConnectorInput(name, f"the {name.replace('_', ' ')} {problem}")
    problem = index_name_problem(request.index_name)
    if problem:
        raise InvalidConnectorInput("index_name", problem)


async def _check_cluster(
    client: AsyncElasticsearch, store: ConnectorStore, request: IndexConnection
) -> tuple[str | None, str | None, bool]:
    """Read-only, before any write: (the record's index, its API key id, index exists)."""
    connector = await store.get_connector(request.connector_id)
    if connector is None:
        raise IndexNotConnected(
            f"connector {request.connector_id} no longer exists; start a new connector",
            "connector_missing",
        )
    index = request.index_name
    others = [c for c in await store.list_connectors(index_names=[index]) if c.id != connector.id]
    if others:
        raise IndexNotConnected(
            f"index {quoted(index)} is used by another connector ({others[0].id}, "
            f"{quoted(others[0].name)}); choose another index name",
            "index_in_use",
        )
    with translated(f"checking index {quoted(index)}"):
        exists = bool(await client.indices.exists(index=index))
    if request.existing_index is True and not exists:
        raise IndexNotConnected(f"index {quoted(index)} does not exist", "index_missing")
    if request.existing_index is False and exists:
        raise IndexNotConnected(
            f"index {quoted(index)} already exists; use it as an existing index, or choose "
            "another name",
            "index_exists",
        )
    return connector.index_name, connector.api_key_id, exists


_UndoStep = Callable[[], Awaitable[tuple[bool, str]]]


class _Undo:
    """The writes made so far, newest last, each with how to take it back."""

    def __init__(self) -> None:
        self._steps: list[_UndoStep] = []

    def add(self, step: _UndoStep) -> None:
        self._steps.append(step)

    async def run(self) -> tuple[list[str], list[str]]:
        """(what was removed, what is left behind with how to remove it)."""
        removed: list[str] = []
        left: list[str] = []
        for step in reversed(self._steps):
            done, words = await step()
            (removed if done else left).append(words)
        return removed, left


async def connect_index(
    client: AsyncElasticsearch,
    store: ConnectorStore,
    request: IndexConnection,
    *,
    config_document: ConfigDocument | None = None,
) -> ConnectedIndex:
    """Connect the index (and the API key, and config.yml's entry) as asked, or nothing.
    Raises InvalidConnectorInput (bad input, nothing written) or IndexNotConnected (the
    cluster refused or a write failed; the writes were undone — the message says so, or what
    is left behind)."""
    _validate(request)
    if config_document is not None and config_document.path is not None:
        problem = config_write_problem(config_document.path)
        if problem:
            raise IndexNotConnected(
                f"{config_document.path} cannot be written ({problem})", "config_not_writable"
            )
    previous_index, previous_key_id, exists = await _check_cluster(client, store, request)

    connector_id, index = request.connector_id, request.index_name
    undo = _Undo()
    api_key: ConnectorApiKey | None = None
    reference: str | None = None
    env_file: Path | None = None
    saved: Path | None = None
    created = False
    try:
        if not exists:
            with translated(f"creating index {quoted(index)}"):
                created = await create_content_index(client, index, language=request.language)
            if created:
                undo.add(lambda: delete_index(client, index))
        await store.update_index_name(connector_id, index)
        undo.add(
            lambda: _restore(store.update_index_name, connector_id, previous_index, "the index")
        )
        if request.api_key:
            with translated("creating the connector's API key"):
                api_key = await create_connector_api_key(
                    client, connector_name=request.connector_name or index, index_name=index
                )
            key_id = api_key.id
            undo.add(lambda: invalidate_api_key(client, key_id))
            await store.update_api_key_id(connector_id, key_id)
            undo.add(
                lambda: _restore(
                    store.update_api_key_id, connector_id, previous_key_id, "the API key id"
                )
            )
            reference, env_file = _place_key(request, api_key.encoded, undo)
        if config_document is not None:
            config_document.upsert_connector(connector_id, request.service_type, reference)
            try:
                saved = config_document.save()
            except BaseException:
                config_document.remove_connector(connector_id)
                raise
    except ApiKeyUnavailable as exc:
        removed, left = await undo.run()
        raise IndexNotConnected(
            outcome(f"no API key: {exc}", removed, left), "no_api_key", tuple(left)
        ) from None
    except (
        ConnectorStoreError,
        ContentIndexError,
        ConfigError,
        secrets.SecretError,
        OSError,
        ValueError,
    ) as exc:
        removed, left = await undo.run()
        raise IndexNotConnected(
            outcome(failure_words(exc), removed, left), "write_failed", tuple(left)
        ) from None
    except BaseException as exc:  # Ctrl-C, or a bug: undo, then let it through
        _removed, left = await undo.run()
        if left:
            exc.add_note("sluice: left behind: " + ", ".join(left))
        raise
    return ConnectedIndex(
        index_name=index,
        index_created=created,
        api_key=api_key,
        reference=reference,
        env_file=env_file,
        config_path=saved,
    )


def _place_key(request: IndexConnection, encoded: str, undo: _Undo) -> tuple[str, Path | None]:
    """Put the key where the user keeps secrets; (config.yml's value, the env file)."""
    name = connector_key_secret(request.connector_id)
    if request.placement is SecretPlacement.KEYRING:
        reference = secrets.store_secret(name, encoded)
        undo.add(lambda: _forget_secret(name))
        return reference, None
    if request.placement is SecretPlacement.ENV:
        env_file = None
        if request.env_file is not None:
            variable = secrets.env_var_name(name)
            env_file = set_env_value(request.env_file, variable, encoded)
            written = env_file
            undo.add(lambda: _env_file_left(written, variable))
        return secrets.env_reference(name), env_file
    return encoded, None


async def _forget_secret(name: str) -> tuple[bool, str]:
    try:
        secrets.delete_secret(name)
    except secrets.SecretError:
        return False, f"keyring entry {name} (delete it with your keyring tool)"
    return True, f"keyring entry {name}"


async def _restore(
    update: Callable[[str, str | None], Awaitable[None]],
    connector_id: str,
    previous: str | None,
    words: str,
) -> tuple[bool, str]:
    """Put the record's index name / API key id back as it was."""
    try:
        await update(connector_id, previous)
    except ConnectorStoreError:
        return False, f"{words} on connector {connector_id} (set it again)"
    return True, f"{words} from connector {connector_id}"


async def _env_file_left(env_file: Path, variable: str) -> tuple[bool, str]:
    """The env file keeps the (now invalidated) key: harmless, but said."""
    return False, f"{variable} in {env_file} (an invalidated key: delete that line)"
