"""`sluice index list` against the cluster under test."""

from __future__ import annotations

import pytest

from tests.cli.connector_fixtures import cli_environment, json_out

pytestmark = pytest.mark.es


@pytest.fixture
def cli_env(tmp_path, capsys):
    yield from cli_environment(tmp_path, capsys)


def test_index_list_shows_docs_size_and_connector(cli_env):
    connector_id = cli_env.create("--set", "directory=/x")
    index = cli_env.connector_doc(connector_id)["index_name"]
    loose = cli_env.index_name()

    async def fill(client):
        await client.index(index=index, id="1", document={"title": "a"})
        await client.index(index=index, id="2", document={"title": "b"}, refresh=True)
        await client.indices.create(index=loose)

    cli_env.es(fill)
    code, out, err = cli_env.run("index", "list")
    assert code == 0, err
    assert out.splitlines()[0].split() == ["INDEX", "DOCS", "SIZE", "CONNECTOR"]
    row = next(line for line in out.splitlines() if line.startswith(index + " "))
    assert row.split()[1] == "2" and f"cli test ({connector_id})" in row
    assert not any(line.startswith(".") for line in out.splitlines())

    listed = {i["index"]: i for i in json_out(cli_env.run("index", "list", "--json")[1])}
    assert listed[index]["docs_count"] == 2 and listed[index]["connector_id"] == connector_id
    assert listed[index]["size_bytes"] > 0
    assert listed[loose]["connector_id"] is None and listed[loose]["docs_count"] == 0
