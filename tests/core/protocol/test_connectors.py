"""Connector records through every backend: create, read, list, update, soft delete."""

from __future__ import annotations

import pytest

from sluice.core.protocol import (
    ConnectorNotFound,
    ConnectorStatus,
    FilteringValidationState,
    InvalidRequest,
    InvalidTransition,
)

pytestmark = pytest.mark.es

SCHEMA = {
    "directory": {
        "label": "Directory",
        "type": "str",
        "display": "text",
        "required": True,
        "sensitive": False,
        "value": "",
        "order": 1,
    },
    "recursive": {
        "label": "Recursive",
        "type": "bool",
        "display": "toggle",
        "required": False,
        "sensitive": False,
        "value": False,
        "order": 2,
    },
    "password": {
        "label": "Password",
        "type": "str",
        "display": "text",
        "required": False,
        "sensitive": True,
        "value": "",
        "order": 3,
    },
}


async def test_create_get_and_list(harness):
    created = await harness.connector(description="made by a test", language="en")
    got = await harness.store.get_connector(created.id)
    assert got is not None
    assert got.id == created.id
    assert got.name == created.name
    assert got.description == "made by a test"
    assert got.language == "en"
    assert got.service_type == "dir"
    assert got.status is ConnectorStatus.CREATED
    assert got.is_native is False
    assert got.deleted is False
    assert got.pipeline == {
        "name": "search-default-ingestion",
        "extract_binary_content": True,
        "reduce_whitespace": True,
        "run_ml_inference": True,
    }
    listed = await harness.store.list_connectors(index_names=[created.index_name])
    assert [c.id for c in listed] == [created.id]
    assert "password" not in repr(got)


async def test_create_with_chosen_id_and_duplicates_refused(harness):
    chosen = f"sluice-test-{harness.backend}-{id(harness)}"
    created = await harness.connector(connector_id=chosen)
    assert created.id == chosen
    with pytest.raises(InvalidRequest, match="already exists"):
        await harness.connector(connector_id=chosen)


async def test_index_name_used_by_another_connector_is_refused(harness):
    first = await harness.connector()
    with pytest.raises(InvalidRequest, match=r"Index name \[.*\] is used by another connector"):
        await harness.connector(index_name=first.index_name)
    second = await harness.connector()
    with pytest.raises(InvalidRequest, match="is used by another connector"):
        await harness.store.update_index_name(second.id, first.index_name)


async def test_soft_delete_hides_the_connector(harness):
    created = await harness.connector()
    await harness.store.delete_connector(created.id)
    assert await harness.store.get_connector(created.id) is None
    listed = await harness.store.list_connectors(index_names=[created.index_name])
    assert listed == []
    raw = await harness.raw_connector(created.id)
    assert raw["deleted"] is True
    kept = await harness.store.get_connector(created.id, include_deleted=True)
    assert kept is not None and kept.deleted
    with pytest.raises(ConnectorNotFound):
        await harness.store.delete_connector(created.id)
    # the index name is free again
    await harness.connector(index_name=created.index_name)


async def test_configuration_schema_then_values_with_real_booleans(harness):
    created = await harness.connector()
    await harness.store.update_configuration(
        created.id,
        schema=SCHEMA,
        values={"directory": "/data"},
        status=ConnectorStatus.NEEDS_CONFIGURATION,
    )
    got = await harness.store.get_connector(created.id)
    assert got.status is ConnectorStatus.NEEDS_CONFIGURATION
    assert got.configuration_values() == {"directory": "/data", "recursive": False, "password": ""}

    await harness.store.update_configuration(created.id, values={"recursive": True})
    raw = await harness.raw_connector(created.id)
    assert raw["configuration"]["recursive"]["value"] is True
    assert raw["configuration"]["recursive"]["label"] == "Recursive"
    assert raw["configuration"]["directory"]["value"] == "/data"
    assert raw["status"] == "configured"

    with pytest.raises(InvalidRequest, match=r"Unknown \[configuration\] fields.*\[nope\]"):
        await harness.store.update_configuration(created.id, values={"nope": 1})


async def test_status_follows_the_state_machine(harness):
    created = await harness.connector()
    with pytest.raises(InvalidRequest):  # created -> connected is not allowed
        await harness.store.update_status(created.id, ConnectorStatus.CONNECTED)
    await harness.store.update_status(created.id, ConnectorStatus.NEEDS_CONFIGURATION)
    got = await harness.store.get_connector(created.id)
    assert got.status is ConnectorStatus.NEEDS_CONFIGURATION


async def test_status_transition_error_names_both_statuses(harness):
    if harness.backend != "index":
        pytest.skip("message wording is the server's")
    created = await harness.connector()
    with pytest.raises(InvalidTransition, match=r"from status \[created\] to \[connected\]"):
        await harness.store.update_status(created.id, ConnectorStatus.CONNECTED)


async def test_error_sets_and_clears(harness):
    created = await harness.connector()
    await harness.store.update_error(created.id, "source unreachable")
    got = await harness.store.get_connector(created.id)
    assert (got.status, got.error) == (ConnectorStatus.ERROR, "source unreachable")
    await harness.store.update_error(created.id, None)
    got = await harness.store.get_connector(created.id)
    assert (got.status, got.error) == (ConnectorStatus.CONNECTED, None)


async def test_scheduling_validates_quartz_cron(harness):
    created = await harness.connector()
    await harness.store.update_scheduling(
        created.id, {"full": {"enabled": True, "interval": "0 30 2 ? * MON-FRI"}}
    )
    got = await harness.store.get_connector(created.id)
    assert got.scheduling == {
        "access_control": {"enabled": False, "interval": "0 0 0 * * ?"},
        "full": {"enabled": True, "interval": "0 30 2 ? * MON-FRI"},
        "incremental": {"enabled": False, "interval": "0 0 0 * * ?"},
    }
    with pytest.raises(InvalidRequest, match=r"scheduling.incremental.interval: .*6 or 7"):
        await harness.store.update_scheduling(
            created.id, {"incremental": {"enabled": True, "interval": "*/5 * * * *"}}
        )


async def test_filtering_draft_validation_and_activation(harness):
    created = await harness.connector()
    rule = {
        "id": "r1",
        "field": "path",
        "policy": "exclude",
        "rule": "starts_with",
        "value": "/tmp",
        "order": 0,
    }
    await harness.store.update_filtering_draft(
        created.id, rules=[rule], advanced_snippet={"queries": ["SELECT 1"]}
    )
    got = await harness.store.get_connector(created.id)
    draft = got.draft_filter()
    assert draft["validation"] == {"errors": [], "state": "edited"}
    assert [r["id"] for r in draft["rules"]] == ["r1", "DEFAULT"]
    assert draft["advanced_snippet"]["value"] == {"queries": ["SELECT 1"]}
    assert [r["id"] for r in got.active_filter()["rules"]] == ["DEFAULT"]

    with pytest.raises(InvalidRequest, match="needs to be validated"):
        await harness.store.activate_filtering(created.id)

    await harness.store.update_filtering_validation(created.id, FilteringValidationState.VALID)
    await harness.store.activate_filtering(created.id)
    got = await harness.store.get_connector(created.id)
    assert [r["id"] for r in got.active_filter()["rules"]] == ["r1", "DEFAULT"]
    assert got.active_filter()["advanced_snippet"]["value"] == {"queries": ["SELECT 1"]}


async def test_small_updates(harness):
    created = await harness.connector()
    await harness.store.update_api_key_id(created.id, "key-id-1", None)
    await harness.store.update_name(created.id, name="renamed", description="new text")
    await harness.store.update_features(created.id, {"incremental_sync": {"enabled": True}})
    await harness.store.check_in(created.id)
    got = await harness.store.get_connector(created.id)
    assert got.api_key_id == "key-id-1"
    assert (got.name, got.description) == ("renamed", "new text")
    assert got.incremental_sync_enabled
    assert got.last_seen is not None


async def test_missing_connector_is_a_clear_error(harness):
    assert await harness.store.get_connector("no-such-connector") is None
    with pytest.raises(ConnectorNotFound, match="no-such-connector"):
        await harness.store.update_error("no-such-connector", "x")
    with pytest.raises(ConnectorNotFound):
        await harness.store.create_job("no-such-connector")
