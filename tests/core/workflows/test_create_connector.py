"""The create-connector workflow: all of it or nothing, on every store backend.

Against the real local cluster; a failing step is made to fail by replacing that one step
of the store (or of the config document), then the test checks what is really left in the
cluster: no record (not even a soft-deleted one) and no index it created.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import pytest

from sluice.core.config import ConfigDocument, ConfigError
from sluice.core.config.problems import Problem
from sluice.core.protocol import (
    ConnectorStatus,
    InvalidRequest,
    StoreUnavailable,
)
from sluice.core.protocol.mappings import IndexNames
from sluice.core.workflows import (
    ConnectorNotCreated,
    InvalidConnectorInput,
    NewConnector,
    create_connector,
    validate_new_connector,
)
from sluice.sources.registry import get_source_class
from sluice.sources.schema import validate_configuration
from tests.fakes.fake_security import Canned

pytestmark = pytest.mark.es

ORIGIN = {"X-elastic-product-origin": "connectors"}
DIR = get_source_class("dir")
ONLY_INDEX = pytest.mark.parametrize("harness", ["index"], indirect=True)


def request(index_name: str, **changes: Any) -> NewConnector:
    """A dir connector with its directory set (so `configured`)."""
    configuration = copy.deepcopy(DIR.default_configuration())
    configuration["directory"]["value"] = "/srv/docs"
    fields: dict[str, Any] = {
        "service_type": "dir",
        "name": "workflow test",
        "index_name": index_name,
        "configuration": configuration,
        "given": ["directory"],
        "features": DIR.features(),
    }
    fields.update(changes)
    return NewConnector(**fields)


def with_value(key: str, value: Any) -> dict[str, Any]:
    configuration = copy.deepcopy(DIR.default_configuration())
    configuration[key]["value"] = value
    return configuration


async def records_for(h: Any, index_name: str) -> list[dict[str, Any]]:
    """Every record naming `index_name`, soft-deleted ones included."""
    await h.es.options(headers=ORIGIN).indices.refresh(index=h.names.connectors)
    resp = await h.es.options(headers=ORIGIN).search(
        index=h.names.connectors, query={"term": {"index_name": index_name}}, size=10
    )
    return [hit["_source"] for hit in resp["hits"]["hits"]]


async def index_exists(h: Any, index_name: str) -> bool:
    return bool(await h.es.indices.exists(index=index_name))


async def create(h: Any, req: NewConnector, **kwargs: Any) -> Any:
    created = await create_connector(
        h.client or h.es, h.store, req, validate=validate_configuration, **kwargs
    )
    h.connector_ids.append(created.connector.id)
    return created


# ------------------------------------------------------------------ success


async def test_creates_the_index_the_record_and_its_configuration(harness, index_name):
    created = await create(harness, request(index_name, language="en", description="docs"))

    assert created.status is ConnectorStatus.CONFIGURED and created.index_created
    assert created.missing == {}
    doc = await harness.raw_connector(created.connector.id)
    assert (doc["name"], doc["index_name"], doc["service_type"]) == (
        "workflow test",
        index_name,
        "dir",
    )
    assert (doc["status"], doc["description"], doc["language"]) == ("configured", "docs", "en")
    assert doc["configuration"]["directory"]["value"] == "/srv/docs"
    assert doc["features"]["sync_rules"]["basic"]["enabled"] is True
    settings = await harness.es.indices.get_settings(index=index_name)
    analyzer = settings[index_name]["settings"]["index"]["analysis"]["analyzer"]["default"]
    assert analyzer["type"] == "english"  # the content index is made for its language


async def test_required_values_left_out_leave_it_needing_configuration(harness, index_name):
    req = request(index_name, configuration=DIR.default_configuration(), given=[])
    created = await create(harness, req)
    assert created.status is ConnectorStatus.NEEDS_CONFIGURATION
    assert list(created.missing) == ["directory"]
    assert (await harness.raw_connector(created.connector.id))["status"] == "needs_configuration"


# ------------------------------------------------------------------ bad input: no write


BAD_INPUT = [
    ({"name": "  "}, "name", "the name is empty"),
    ({"name": "bad\udcff"}, "name", "the name is not valid UTF-8"),
    ({"description": "x\udcff"}, "description", "the description is not valid UTF-8"),
    ({"service_type": ""}, "service_type", "the service type is empty"),
    ({"index_name": "Search-Upper"}, "index_name", "must be lowercase"),
    ({"index_name": "search-" + "x" * 10_000}, "index_name", "the limit is 255 bytes"),
    ({"index_name": "search-\udcff"}, "index_name", "the index name is not valid UTF-8"),
    ({"given": ["directory", "nope"]}, "nope", "unknown setting 'nope'"),
    (
        {"configuration": with_value("max_file_size", 10**30), "given": ["max_file_size"]},
        "max_file_size",
        "is out of range",
    ),
    (
        {"configuration": with_value("directory", "/srv/\udcff")},
        "directory",
        "is not valid UTF-8",
    ),
    (
        {"configuration": with_value("max_file_size", "12abc"), "given": ["max_file_size"]},
        "max_file_size",
        "must be a whole number",
    ),
]


@ONLY_INDEX
@pytest.mark.parametrize(("changes", "field", "words"), BAD_INPUT, ids=[b[1] for b in BAD_INPUT])
async def test_bad_input_is_refused_before_any_write(harness, index_name, changes, field, words):
    req = request(**{"index_name": index_name, **changes})
    with pytest.raises(InvalidConnectorInput) as caught:
        validate_new_connector(req, validate_configuration)
    assert caught.value.field == field and words in str(caught.value)
    assert len(str(caught.value)) < 300  # a 10,000-character name is not echoed whole

    with pytest.raises(InvalidConnectorInput):
        await create(harness, req)
    assert not await index_exists(harness, index_name)
    assert await records_for(harness, index_name) == []
    if req.index_name.isprintable() and "\udcff" not in req.index_name:
        assert await records_for(harness, req.index_name) == []


# ------------------------------------------------------------------ the cluster says no


@ONLY_INDEX
async def test_an_index_that_exists_is_refused_and_kept(harness, index_name):
    await harness.es.index(index=index_name, document={"keep": "me"}, refresh=True)
    with pytest.raises(ConnectorNotCreated) as caught:
        await create(harness, request(index_name))
    assert caught.value.code == "index_exists"
    assert (await harness.es.count(index=index_name))["count"] == 1
    assert await records_for(harness, index_name) == []


@ONLY_INDEX
async def test_attaching_a_missing_index_is_refused(harness, index_name):
    with pytest.raises(ConnectorNotCreated) as caught:
        await create(harness, request(index_name, existing_index=True))
    assert caught.value.code == "index_missing"
    assert not await index_exists(harness, index_name)
    assert await records_for(harness, index_name) == []


@ONLY_INDEX
async def test_an_index_another_connector_uses_creates_nothing(harness, index_name):
    other = await harness.connector(index_name=index_name)
    with pytest.raises(ConnectorNotCreated) as caught:
        await create(harness, request(index_name))
    assert caught.value.code == "index_in_use" and other.id in str(caught.value)
    assert not await index_exists(harness, index_name)  # checked before creating it
    assert [r["name"] for r in await records_for(harness, index_name)] == [other.name]


# ------------------------------------------------------------------ undo


def fail_configuration(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refused(*args: Any, **kwargs: Any) -> None:
        raise InvalidRequest("writing the configuration: Elasticsearch answered HTTP 400: no")

    monkeypatch.setattr(store, "update_configuration", refused)


async def test_a_failed_step_removes_the_record_and_the_index(harness, index_name, monkeypatch):
    fail_configuration(harness.store, monkeypatch)
    with pytest.raises(ConnectorNotCreated) as caught:
        await create(harness, request(index_name))

    message = str(caught.value)
    assert message.startswith("writing the configuration: Elasticsearch answered HTTP 400")
    assert "undone: removed connector record" in message and f"index '{index_name}'" in message
    assert caught.value.left_behind == ()
    assert not await index_exists(harness, index_name)
    assert await records_for(harness, index_name) == []  # gone, not soft-deleted


async def test_the_undo_never_deletes_an_index_that_existed(harness, index_name, monkeypatch):
    await harness.es.index(index=index_name, document={"keep": "me"}, refresh=True)
    fail_configuration(harness.store, monkeypatch)
    with pytest.raises(ConnectorNotCreated) as caught:
        await create(harness, request(index_name, existing_index=True))
    assert "index" not in str(caught.value).split("undone:")[1]
    assert (await harness.es.count(index=index_name))["count"] == 1
    assert await records_for(harness, index_name) == []


@ONLY_INDEX
async def test_what_the_undo_could_not_remove_is_named(harness, index_name, monkeypatch):
    names = harness.store.names

    async def refused(*args: Any, **kwargs: Any) -> None:
        # From here on, neither a direct delete (a name Elasticsearch refuses: 400) nor the
        # store's can reach the record.
        monkeypatch.setattr(harness.store, "names", IndexNames("Refused-"))
        raise InvalidRequest("writing the configuration: Elasticsearch answered HTTP 400: no")

    async def unreachable(connector_id: str) -> None:
        raise StoreUnavailable("deleting connector: cannot reach Elasticsearch")

    monkeypatch.setattr(harness.store, "update_configuration", refused)
    monkeypatch.setattr(harness.store, "delete_connector", unreachable)
    with pytest.raises(ConnectorNotCreated) as caught:
        await create(harness, request(index_name))

    monkeypatch.setattr(harness.store, "names", names)
    [record] = await records_for(harness, index_name)  # really still there
    [left] = caught.value.left_behind
    assert left.startswith("connector record ") and "connector delete " in left
    assert f"left behind: {left}" in str(caught.value)
    assert not await index_exists(harness, index_name)  # the rest was undone
    assert record["index_name"] == index_name


# ------------------------------------------------------------------ config.yml


@ONLY_INDEX
async def test_the_config_entry_is_written_last(harness, index_name, tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("# mine\nconnectors: []\n")
    created = await create(harness, request(index_name), config_document=ConfigDocument.open(path))
    assert created.config_path == path
    text = path.read_text()
    assert text.startswith("# mine") and f"connector_id: {created.connector.id}" in text


@ONLY_INDEX
async def test_a_failed_config_save_undoes_the_cluster_writes(harness, index_name, tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("connectors: []\n")

    class FullDisk(ConfigDocument):
        def save(self) -> Path:
            raise ConfigError([Problem("", "cannot be written: No space left on device")])

    document = FullDisk(path.read_text(), path)
    with pytest.raises(ConnectorNotCreated) as caught:
        await create(harness, request(index_name), config_document=document)
    assert "No space left on device" in str(caught.value) and "undone" in str(caught.value)
    assert document.connectors == []  # the entry is not kept in memory either
    assert path.read_text() == "connectors: []\n"
    assert not await index_exists(harness, index_name)
    assert await records_for(harness, index_name) == []


@ONLY_INDEX
async def test_an_unwritable_config_is_refused_before_any_write(harness, index_name, tmp_path):
    path = tmp_path / "gone" / "config.yml"
    with pytest.raises(ConnectorNotCreated) as caught:
        await create(harness, request(index_name), config_document=ConfigDocument.open(path))
    assert caught.value.code == "config_not_writable" and "does not exist" in str(caught.value)
    assert not await index_exists(harness, index_name)
    assert await records_for(harness, index_name) == []


# ------------------------------------------------------------------ API key


async def test_an_api_key_is_recorded_and_invalidated_by_the_undo(
    security_fake, index_name, tmp_path
):
    fake, client, store = security_fake
    fake.queue(
        "/_security/api_key",
        Canned(200, {}, {"id": "key-1", "name": "k", "api_key": "s", "encoded": "a2V5LTE6cw=="}),
        Canned(200, {}, {"invalidated_api_keys": ["key-1"], "error_count": 0}),
    )
    path = tmp_path / "config.yml"

    class FullDisk(ConfigDocument):
        def save(self) -> Path:
            raise ConfigError([Problem("", "cannot be written: No space left on device")])

    with pytest.raises(ConnectorNotCreated) as caught:
        await create_connector(
            client,
            store,
            request(index_name, api_key=True),
            validate=validate_configuration,
            config_document=FullDisk("", path),
        )
    assert "removed API key key-1" in str(caught.value)
    calls = [(r.method, r.path) for r in fake.requests if r.path.startswith("/_security")]
    assert calls == [("PUT", "/_security/api_key"), ("DELETE", "/_security/api_key")]
    assert not await client.indices.exists(index=index_name)


async def test_a_cluster_without_api_keys_still_gets_its_connector(security_fake, index_name):
    _fake, client, store = security_fake
    created = await create_connector(
        client, store, request(index_name, api_key=True), validate=validate_configuration
    )
    assert created.api_key is None and "security is not enabled" in (created.api_key_note or "")
    connector = await store.get_connector(created.connector.id)
    assert connector is not None and connector.index_name == index_name


def test_the_request_is_plain_data():
    """What the TUI's wizard can fill in as well as the CLI."""
    req = request("search-x-" + uuid.uuid4().hex[:6])
    assert validate_new_connector(req, validate_configuration) == {}
