"""A connector made by `sluice connector create` and one made by the wizard are the same
connector: both front ends call the same workflows, so the record (field by field, minus its
id, name and timestamps), the content index (settings and mappings) and the config.yml entry
must match exactly."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import yaml

from sluice.core.es import build_client
from sluice.tui.app import SluiceApp
from tests.cli.connector_fixtures import ORIGIN, cli_environment
from tests.leftovers import UNIQUE_TOKENS
from tests.tui.conftest import SIZE
from tests.tui.test_wizard_flow import walk_to_review

pytestmark = pytest.mark.es

#: What differs by nature between two connectors: who they are and when they were touched.
_OWN = {"id", "name", "index_name"}
_TIMES = {"created_at", "updated_at", "last_seen"}
#: Sluice's write tokens (retry-safe writes): one per write, so a history, not a property.
_HISTORY = {"writes"}
#: Index settings Elasticsearch sets per index.
_PER_INDEX = {"uuid", "creation_date", "provided_name", "version", "history_uuid"}


@pytest.fixture
def cli_env(tmp_path, capsys):
    yield from cli_environment(tmp_path, capsys)


async def _record_and_index(settings: dict[str, Any], connector_id: str) -> tuple[dict, dict]:
    """The stored record (as Elastic's service reads it) and its index's settings and
    mappings, with what is per connector/per index left out."""
    client = build_client(settings)
    try:
        direct = client.options(headers=ORIGIN)
        record = (await direct.get(index=".elastic-connectors", id=connector_id))["_source"]
        index = record["index_name"]
        settings_resp = await client.indices.get_settings(index=index)
        mapping_resp = await client.indices.get_mapping(index=index)
    finally:
        await client.close()
    index_settings = dict(settings_resp[index]["settings"]["index"])
    for key in _PER_INDEX:
        index_settings.pop(key, None)
    shown = {key: _timeless(value) for key, value in record.items() if key not in _OWN}
    return shown, {"settings": index_settings, "mappings": mapping_resp[index]["mappings"]}


def _timeless(value: Any) -> Any:
    """`value` without its timestamps, at any depth (filtering rules carry their own)."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in _TIMES | _HISTORY}
    if isinstance(value, list):
        return [_timeless(item) for item in value]
    return value


def _entry(config_text: str, connector_id: str) -> dict[str, Any]:
    entries = yaml.safe_load(config_text)["connectors"]
    (entry,) = [e for e in entries if e["connector_id"] == connector_id]
    return {key: value for key, value in entry.items() if key != "connector_id"}


async def test_cli_and_wizard_make_the_same_connector(cli_env, tmp_path, es_config):
    unique = uuid.uuid4().hex[:8]
    UNIQUE_TOKENS.add(unique)
    docs_dir = tmp_path / "docs"
    docs_dir.mkdir()
    (docs_dir / "readme.md").write_text("# parity\n")
    # the CLI
    cli_index = f"search-sluice-test-cli-{unique}"
    cli_env.indices.append(cli_index)
    code, out, err = await asyncio.to_thread(
        cli_env.run,
        "connector",
        "create",
        "--service-type",
        "dir",
        "--name",
        f"parity cli {unique}",
        "--index-name",
        cli_index,
        "--set",
        f"directory={docs_dir}",
        "--write-config",
    )
    assert code == 0, err
    cli_id = cli_env.remember(out)

    # the wizard, headless, with the same answers
    wizard_index = f"search-sluice-test-tui-{unique}"
    cli_env.indices.append(wizard_index)
    wizard_config = tmp_path / "wizard" / "config.yml"
    wizard_config.parent.mkdir()
    app = SluiceApp(str(wizard_config), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        await walk_to_review(pilot, app, es_config, docs_dir, f"parity tui {unique}", wizard_index)
        wizard_id = app.session.state.connector_id
    assert wizard_id
    cli_env.connector_ids.append(wizard_id)

    cli_record, cli_index_shape = await _record_and_index(cli_env.settings, cli_id)
    tui_record, tui_index_shape = await _record_and_index(cli_env.settings, wizard_id)
    differ = {
        key: (cli_record.get(key), tui_record.get(key))
        for key in sorted(set(cli_record) | set(tui_record))
        if cli_record.get(key) != tui_record.get(key)
    }
    assert differ == {}, f"record fields differ (cli, wizard): {differ}"
    assert tui_index_shape == cli_index_shape
    assert _entry(wizard_config.read_text(), wizard_id) == _entry(
        cli_env.config.read_text(), cli_id
    )
