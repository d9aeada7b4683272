"""Small core pieces the setup wizard uses: the environment doctor, the content index and the
connector-scoped API key."""

from __future__ import annotations

import base64
import os

import pytest

from sluice.core.connector_api_key import (
    ApiKeyUnavailable,
    create_connector_api_key,
    role_descriptors,
)
from sluice.core.content_index import (
    ContentIndexError,
    content_index_body,
    create_content_index,
    list_content_indices,
)
from sluice.core.doctor import planned_environment_checks, run_environment_checks
from sluice.core.es import build_client
from tests.fakes.fake_api_key import FakeApiKeys


async def test_doctor_reports_every_planned_check(tmp_path):
    planned = planned_environment_checks(tmp_path / "config.yml")
    results = [r async for r in run_environment_checks(tmp_path / "config.yml")]
    assert [r.id for r in results] == [check_id for check_id, _ in planned]
    by_id = {r.id: r for r in results}
    assert by_id["python"].status == "ok"
    assert by_id["config_folder"].status == "ok"
    assert by_id["keyring"].status in ("ok", "warn")
    if by_id["keyring"].status == "warn":
        assert by_id["keyring"].hint  # says what to do instead


@pytest.mark.parametrize(
    ("text", "status", "words"),
    [
        (None, "skip", "no config.yml yet"),
        ("elasticsearch.host: http://127.0.0.1:9200\n", "ok", "reads without problems"),
        ("elasticsearch:\n  api_key: [unclosed\nx: 1\n", "fail", "config.yml:3:"),
        ("service.idlling: 3\n", "warn", "did you mean"),
    ],
)
async def test_doctor_shows_config_file_problems_first(tmp_path, text, status, words):
    """The TUI opened on a broken config.yml says so on its first screen."""
    path = tmp_path / "config.yml"
    if text is not None:
        path.write_text(text)
    results = {r.id: r async for r in run_environment_checks(path)}
    assert results["config_file"].status == status
    assert words in results["config_file"].message


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
async def test_doctor_fails_an_unwritable_config_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        results = {r.id: r async for r in run_environment_checks(locked / "config.yml")}
    finally:
        locked.chmod(0o700)
    assert results["config_folder"].status == "fail"


@pytest.mark.es
async def test_create_content_index_and_list_it(es, index_name):
    assert await create_content_index(es, index_name) is True
    assert await create_content_index(es, index_name) is False  # exists: left alone
    mapping = (await es.indices.get_mapping(index=index_name)).body
    properties = next(iter(mapping.values()))["mappings"]["properties"]
    assert properties["_timestamp"]["type"] == "date"
    assert index_name in await list_content_indices(es)


async def test_invalid_index_name_is_refused_before_any_request(es):
    with pytest.raises(ContentIndexError, match="lowercase"):
        await create_content_index(es, "Bad Name")


def test_language_analyzer_in_settings():
    assert content_index_body("fr")["settings"]["analysis"]["analyzer"]["default"] == {
        "type": "french"
    }
    assert "settings" not in content_index_body(None)


def test_role_descriptor_is_elastics_least_privilege():
    role = role_descriptors("wiki", "search-wiki")["wiki-connector-role"]
    assert role["cluster"] == ["monitor", "manage_connector"]
    assert role["indices"][0]["names"] == [
        "search-wiki",
        ".search-acl-filter-search-wiki",
        ".elastic-connectors*",
    ]


async def test_connector_api_key_is_created_with_the_role():
    with FakeApiKeys("ok") as fake:
        client = build_client({"host": fake.url, "max_retries": 0})
        try:
            key = await create_connector_api_key(
                client, connector_name="Team wiki", index_name="search-wiki"
            )
        finally:
            await client.close()
    assert base64.b64decode(key.encoded).decode().startswith(key.id + ":")
    assert key.encoded not in repr(key)
    sent = fake.bodies[0]
    assert sent["name"] == "Team-wiki-connector-api-key"
    assert "Team-wiki-connector-role" in sent["role_descriptors"]


@pytest.mark.parametrize(
    ("mode", "words"), [("forbidden", "manage_api_key"), ("security_off", "security")]
)
async def test_connector_api_key_explains_why_not(mode, words):
    with FakeApiKeys(mode) as fake:
        client = build_client({"host": fake.url, "max_retries": 0})
        try:
            with pytest.raises(ApiKeyUnavailable, match=words):
                await create_connector_api_key(client, connector_name="x", index_name="search-x")
        finally:
            await client.close()


def test_env_file_is_private_and_replaces_values(tmp_path):
    from sluice.core.envfile import set_env_value

    path = set_env_value(tmp_path / "sluice.env", "SLUICE_KEY", "one")
    set_env_value(path, "OTHER", "x")
    set_env_value(path, "SLUICE_KEY", "two")
    assert path.read_text().splitlines() == ["OTHER=x", "SLUICE_KEY=two"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(ValueError, match="one line"):
        set_env_value(path, "SLUICE_KEY", "a\nb")
