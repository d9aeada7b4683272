"""The connect-index workflow (the wizard's step 6): the index, the API key, its secret and
config.yml's entry — all of it, or nothing, and a fresh key is never left valid and recorded
nowhere. Against the real local cluster; the Security API (absent from it) is the fake's."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from sluice.core.config import ConfigDocument, ConfigError
from sluice.core.config.problems import Problem
from sluice.core.protocol import InvalidRequest
from sluice.core.secrets import SecretPlacement
from sluice.core.workflows import (
    ConnectorNotCreated,
    IndexConnection,
    IndexNotConnected,
    InvalidConnectorInput,
    connect_index,
    create_draft_connector,
)
from sluice.sources.registry import get_source_class
from tests.core.workflows.test_create_connector import ORIGIN, index_exists
from tests.fakes.fake_security import Canned

pytestmark = pytest.mark.es

DIR = get_source_class("dir")
ONLY_INDEX = pytest.mark.parametrize("harness", ["index"], indirect=True)
KEY = {"id": "key-1", "name": "k", "api_key": "s", "encoded": "a2V5LTE6cw=="}


async def draft(client: Any, store: Any, name: str = "connect test") -> str:
    """A record as the wizard's step 3 makes it (the draft workflow): no index yet."""
    connector = await create_draft_connector(
        client,
        store,
        service_type="dir",
        name=name,
        features=DIR.features(),
        configuration=DIR.default_configuration(),
    )
    return connector.id


def connection(connector_id: str, index_name: str, **changes: Any) -> IndexConnection:
    fields: dict[str, Any] = {
        "connector_id": connector_id,
        "service_type": "dir",
        "index_name": index_name,
    }
    fields.update(changes)
    return IndexConnection(**fields)


class FullDisk(ConfigDocument):
    def save(self) -> Path:
        raise ConfigError([Problem("", "cannot be written: No space left on device")])


async def test_a_draft_is_a_record_without_an_index(harness):
    connector_id = await draft(harness.client or harness.es, harness.store)
    harness.connector_ids.append(connector_id)
    record = await harness.store.get_connector(connector_id)
    assert record is not None and record.index_name is None
    assert str(record.status) == "needs_configuration"
    assert record.configuration["directory"]["label"]  # the source's whole schema


@ONLY_INDEX
async def test_a_draft_whose_configuration_fails_is_removed(harness, monkeypatch):
    async def refused(*args: Any, **kwargs: Any) -> None:
        raise InvalidRequest("writing the configuration: Elasticsearch answered HTTP 400: no")

    monkeypatch.setattr(harness.store, "update_configuration", refused)
    name = f"draft {uuid.uuid4().hex[:8]}"
    with pytest.raises(ConnectorNotCreated) as caught:
        await draft(harness.es, harness.store, name)
    assert "undone: removed connector record" in str(caught.value)
    await harness.es.options(headers=ORIGIN).indices.refresh(index=harness.names.connectors)
    found = await harness.es.options(headers=ORIGIN).search(
        index=harness.names.connectors, query={"match_phrase": {"name": name}}
    )
    assert found["hits"]["hits"] == []


async def test_connects_the_index_and_writes_the_entry(harness, index_name, tmp_path):
    connector_id = await draft(harness.client or harness.es, harness.store)
    harness.connector_ids.append(connector_id)
    path = tmp_path / "config.yml"
    path.write_text("# mine\nconnectors: []\n")
    connected = await connect_index(
        harness.client or harness.es,
        harness.store,
        connection(connector_id, index_name),
        config_document=ConfigDocument.open(path),
    )
    assert connected.index_created and connected.config_path == path
    assert await index_exists(harness, index_name)
    record = await harness.store.get_connector(connector_id)
    assert record is not None and record.index_name == index_name
    assert f"connector_id: {connector_id}" in path.read_text()


async def test_an_index_another_connector_uses_is_refused(harness, index_name):
    other = await draft(harness.client or harness.es, harness.store, "other")
    harness.connector_ids.append(other)
    await harness.store.update_index_name(other, index_name)
    mine = await draft(harness.client or harness.es, harness.store)
    harness.connector_ids.append(mine)
    with pytest.raises(IndexNotConnected) as caught:
        await connect_index(
            harness.client or harness.es, harness.store, connection(mine, index_name)
        )
    assert caught.value.code == "index_in_use" and other in str(caught.value)
    assert not await index_exists(harness, index_name)
    record = await harness.store.get_connector(mine)
    assert record is not None and record.index_name is None


@ONLY_INDEX
async def test_a_bad_index_name_is_refused_before_any_write(harness):
    mine = await draft(harness.client or harness.es, harness.store)
    harness.connector_ids.append(mine)
    with pytest.raises(InvalidConnectorInput) as caught:
        await connect_index(harness.es, harness.store, connection(mine, "Search-Bad"))
    assert caught.value.field == "index_name" and "lowercase" in str(caught.value)


async def test_a_failed_config_save_invalidates_the_fresh_key(security_fake, tmp_path):
    """The review's case: config.yml can't be saved after the key was made — the key must
    not stay valid and recorded nowhere; the record and the index go back as they were."""
    fake, client, store = security_fake
    fake.queue(
        "/_security/api_key",
        Canned(200, {}, KEY),
        Canned(200, {}, {"invalidated_api_keys": ["key-1"], "error_count": 0}),
    )
    index_name = f"sluice-test-connect-{uuid.uuid4().hex[:8]}"
    connector_id = await draft(client, store)
    path = tmp_path / "config.yml"
    request = connection(connector_id, index_name, api_key=True, placement=SecretPlacement.FILE)
    with pytest.raises(IndexNotConnected) as caught:
        await connect_index(client, store, request, config_document=FullDisk("", path))

    message = str(caught.value)
    failure, undone = message.split(" — undone: removed ")
    assert failure == "cannot be written: No space left on device"
    assert "API key key-1" in undone and f"index '{index_name}'" in undone
    assert caught.value.left_behind == () and KEY["encoded"] not in message
    calls = [(r.method, r.path) for r in fake.requests if r.path.startswith("/_security")]
    assert calls == [("PUT", "/_security/api_key"), ("DELETE", "/_security/api_key")]
    record = await store.get_connector(connector_id)
    assert record is not None and (record.index_name, record.api_key_id) == (None, None)
    assert not await client.indices.exists(index=index_name)
    assert not path.exists()


async def test_an_env_file_holding_the_undone_key_is_named(security_fake, tmp_path):
    fake, client, store = security_fake
    fake.queue(
        "/_security/api_key",
        Canned(200, {}, KEY),
        Canned(200, {}, {"invalidated_api_keys": ["key-1"], "error_count": 0}),
    )
    index_name = f"sluice-test-connect-{uuid.uuid4().hex[:8]}"
    connector_id = await draft(client, store)
    env_file = tmp_path / "sluice.env"
    request = connection(
        connector_id,
        index_name,
        api_key=True,
        placement=SecretPlacement.ENV,
        env_file=env_file,
    )
    with pytest.raises(IndexNotConnected) as caught:
        await connect_index(
            client, store, request, config_document=FullDisk("", tmp_path / "config.yml")
        )
    [left] = caught.value.left_behind
    assert str(env_file) in left and "invalidated" in left
    assert "left behind:" in str(caught.value)
    assert not await client.indices.exists(index=index_name)


async def test_the_key_is_stored_recorded_and_written(security_fake, tmp_path):
    fake, client, store = security_fake
    fake.queue("/_security/api_key", Canned(200, {}, KEY))
    index_name = f"sluice-test-connect-{uuid.uuid4().hex[:8]}"
    connector_id = await draft(client, store)
    path = tmp_path / "config.yml"
    path.write_text("connectors: []\n")
    env_file = tmp_path / "sluice.env"
    request = connection(
        connector_id, index_name, api_key=True, placement=SecretPlacement.ENV, env_file=env_file
    )
    try:
        connected = await connect_index(
            client, store, request, config_document=ConfigDocument.open(path)
        )
        assert connected.reference is not None and connected.reference.startswith("${SLUICE_")
        assert KEY["encoded"] in env_file.read_text() and env_file.stat().st_mode & 0o077 == 0
        assert connected.reference in path.read_text()
        record = await store.get_connector(connector_id)
        assert record is not None and record.api_key_id == "key-1"
    finally:
        await client.options(ignore_status=404).indices.delete(index=index_name)
