"""`sluice connector ...` against the cluster under test."""

from __future__ import annotations

import uuid

import pytest
import yaml

from sluice.core.protocol import IndexConnectorStore
from tests.cli.connector_fixtures import ID_RE, ORIGIN, cli_environment, json_out, one_line
from tests.core.protocol import golden

pytestmark = pytest.mark.es


@pytest.fixture
def cli_env(tmp_path, capsys):
    yield from cli_environment(tmp_path, capsys)


def test_create_writes_a_kibana_style_record_and_the_index(cli_env):
    index = cli_env.index_name()
    code, out, err = cli_env.run(
        "connector",
        "create",
        "--service-type",
        "dir",
        "--name",
        "Docs share",
        "--index-name",
        index,
        "--description",
        "team docs",
        "--language",
        "en",
        "--set",
        "directory=/srv/docs",
        "--set",
        "follow_symlinks=yes",
        "--set",
        "max_file_size=1000",
    )
    assert code == 0, err
    connector_id = cli_env.remember(out)
    assert ID_RE.match(connector_id) and one_line(out)

    doc = cli_env.connector_doc(connector_id)
    assert (doc["name"], doc["description"], doc["language"]) == ("Docs share", "team docs", "en")
    assert (doc["service_type"], doc["index_name"], doc["status"]) == ("dir", index, "configured")
    assert doc["configuration"]["directory"]["value"] == "/srv/docs"
    assert doc["configuration"]["follow_symlinks"]["value"] is True  # a JSON boolean
    assert doc["configuration"]["max_file_size"]["value"] == 1000
    assert doc["configuration"]["directory"]["label"]  # the full schema is stored
    assert doc["features"]["sync_rules"]["basic"]["enabled"] is True
    assert doc["pipeline"]["name"] == "search-default-ingestion"
    assert doc["deleted"] is False

    exists = cli_env.es(lambda client: client.indices.exists(index=index))
    assert bool(exists)


def test_missing_required_values_leave_it_needing_configuration(cli_env):
    code, out, err = cli_env.run(
        "connector",
        "create",
        "--service-type",
        "dir",
        "--name",
        "later",
        "--index-name",
        cli_env.index_name(),
    )
    assert code == 0, err
    connector_id = cli_env.remember(out)
    assert cli_env.connector_doc(connector_id)["status"] == "needs_configuration"
    assert "needs configuration" in err and "--set directory=" in err

    code, out, err = cli_env.run("connector", "configure", connector_id, "--set", "directory=/x")
    assert code == 0, err
    assert "status: configured" in out
    doc = cli_env.connector_doc(connector_id)
    assert doc["configuration"]["directory"]["value"] == "/x"
    assert doc["status"] == "configured"


def test_secret_from_stdin_is_stored_and_never_shown(cli_env):
    index = cli_env.index_name()
    result = cli_env.run_process(
        "connector",
        "create",
        "--service-type",
        "postgresql",
        "--name",
        "pg",
        "--index-name",
        index,
        "--set",
        "host=db.internal",
        "--set",
        "port=5432",
        "--set",
        "password=-",
        stdin="s3cret-Passw0rd\n",
    )
    assert result.returncode == 0, result.stderr
    connector_id = cli_env.remember(result.stdout)
    doc = cli_env.connector_doc(connector_id)
    assert doc["configuration"]["password"]["value"] == "s3cret-Passw0rd"
    assert doc["configuration"]["port"]["value"] == 5432

    for args in (
        ("connector", "show", connector_id),
        ("connector", "show", connector_id, "--json"),
    ):
        code, out, err = cli_env.run(*args)
        assert code == 0, err
        assert "s3cret" not in out + err
        assert "********" in out
    shown = json_out(cli_env.run("connector", "show", connector_id, "--json")[1])
    assert shown["configuration"]["password"]["value"] == "********"
    assert shown["configuration"]["host"]["value"] == "db.internal"

    result = cli_env.run_process(
        "connector", "configure", connector_id, "--set", "password=-", stdin="an0ther-secret\n"
    )
    assert result.returncode == 0, result.stderr
    assert "an0ther" not in result.stdout + result.stderr and "********" in result.stdout
    assert cli_env.connector_doc(connector_id)["configuration"]["password"]["value"] == (
        "an0ther-secret"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "nope=1"], "unknown setting 'nope' for service type 'dir'; known: directory"),
        (["--set", "max_file_size=big"], "--set max_file_size:"),
        (["--set", "novalue"], "--set expects KEY=VALUE, got 'novalue'"),
        (["--index-name", "Search-Upper"], "must be lowercase"),
        (["--service-type", "nosuchsource"], "Unknown source type 'nosuchsource'"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(cli_env, extra, message):
    args = [
        "connector",
        "create",
        "--service-type",
        "dir",
        "--name",
        "bad",
        "--index-name",
        cli_env.index_name(),
        *extra,
    ]
    code, out, err = cli_env.run(*args)
    assert code == 2
    assert out == ""
    assert one_line(err) and err.startswith("sluice: error: ") and message in err


def traces(cli_env, index: str) -> tuple[bool, int]:
    """(does `index` exist, how many connector records name it — soft-deleted ones too)."""

    async def look(client):
        exists = bool(await client.indices.exists(index=index))
        direct = client.options(headers={"X-elastic-product-origin": "connectors"})
        await direct.indices.refresh(index=".elastic-connectors")
        found = await direct.count(
            index=".elastic-connectors", query={"term": {"index_name": index}}
        )
        return exists, found["count"]

    return cli_env.es(look)


PASSWORD = "Canary-s3cret-4417"


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("fetch_size=" + "9" * 30, "'Rows fetched per request' is out of range"),
        ("host=db\udcff.internal", "'Host' is not valid UTF-8 text"),
    ],
    ids=["30-digit integer", "undecodable bytes"],
)
def test_a_value_elasticsearch_cannot_store_fails_at_validation_without_the_secret(
    cli_env, setting, problem
):
    """Issue 12, item 5: the whole configuration, password included, went to stderr as
    "cannot reach Elasticsearch (Unable to serialize to JSON: ...)", and two half-made
    connectors were left behind."""
    index = cli_env.index_name()
    args = ["connector", "create", "--service-type", "postgresql", "--name", "pg"]
    args += ["--index-name", index, "--set", setting, "--set", "password=-"]
    for extra in ((), ("--json",)):
        result = cli_env.run_process(*args, *extra, stdin=PASSWORD + "\n")
        key = setting.split("=")[0]
        assert result.returncode == 2, result.stderr
        assert one_line(result.stderr)
        assert result.stderr.startswith(f"sluice: error: --set {key}: {problem}")
        assert PASSWORD not in result.stdout + result.stderr
        assert "reach" not in result.stderr and "serialize" not in result.stderr
        if extra:
            error = json_out(result.stdout)["error"]
            assert error["exit_code"] == 2 and error["message"].startswith(f"--set {key}:")
        else:
            assert result.stdout == ""
    assert traces(cli_env, index) == (False, 0)


def test_a_name_the_terminal_could_not_decode_creates_nothing(cli_env):
    index = cli_env.index_name()
    code, out, err = cli_env.run(
        "connector",
        "create",
        "--service-type",
        "dir",
        "--name",
        "docs\udcff",
        "--index-name",
        index,
    )
    assert code == 2 and out == ""
    assert one_line(err) and err.startswith("sluice: error: --name: the name is not valid UTF-8")
    assert traces(cli_env, index) == (False, 0)


def test_create_json_describes_the_new_connector(cli_env):
    index = cli_env.index_name()
    code, out, err = cli_env.run(
        "connector",
        "create",
        "--service-type",
        "dir",
        "--name",
        "j",
        "--index-name",
        index,
        "--json",
    )
    assert code == 0, err
    created = json_out(out)
    cli_env.connector_ids.append(created["id"])
    assert created == {
        "id": created["id"],
        "status": "needs_configuration",
        "index_name": index,
        "index_created": True,
        "missing": ["directory"],
    }
    assert traces(cli_env, index) == (True, 1)


def test_existing_index_rules(cli_env):
    index = cli_env.index_name()
    cli_env.es(lambda client: client.indices.create(index=index))
    code, _, err = cli_env.run(
        "connector",
        "create",
        "--service-type",
        "dir",
        "--name",
        "x",
        "--index-name",
        index,
        "--set",
        "directory=/x",
    )
    assert code == 1 and "already exists; pass --existing-index" in err
    code, out, err = cli_env.run(
        "connector",
        "create",
        "--service-type",
        "dir",
        "--name",
        "x",
        "--index-name",
        index,
        "--set",
        "directory=/x",
        "--existing-index",
    )
    assert code == 0, err
    cli_env.remember(out)
    code, _, err = cli_env.run(
        "connector",
        "create",
        "--service-type",
        "dir",
        "--name",
        "y",
        "--index-name",
        cli_env.index_name(),
        "--existing-index",
    )
    assert code == 1 and "does not exist" in err


def test_index_used_by_another_connector_fails_and_leaves_no_index(cli_env):
    connector_id = cli_env.create("--set", "directory=/x")
    index = cli_env.connector_doc(connector_id)["index_name"]
    cli_env.es(lambda client: client.indices.delete(index=index))
    code, _, err = cli_env.run(
        "connector", "create", "--service-type", "dir", "--name", "dup", "--index-name", index
    )
    assert code == 1 and "is used by another connector" in err
    assert not bool(cli_env.es(lambda client: client.indices.exists(index=index)))


def test_write_config_adds_the_connector_and_keeps_comments(cli_env):
    connector_id = cli_env.create("--set", "directory=/x", "--write-config")
    text = cli_env.config.read_text()
    assert text.startswith("# Sluice test config")
    entries = yaml.safe_load(text)["connectors"]
    assert {"connector_id": connector_id, "service_type": "dir"} in entries


def test_list_show_and_delete(cli_env):
    connector_id = cli_env.create("--set", "directory=/x")
    code, out, err = cli_env.run("connector", "list")
    assert code == 0, err
    assert out.splitlines()[0].split()[:4] == ["ID", "NAME", "TYPE", "INDEX"]
    assert connector_id in out
    listed = json_out(cli_env.run("connector", "list", "--json")[1])
    mine = [c for c in listed if c["id"] == connector_id]
    assert mine and mine[0]["status"] == "configured" and mine[0]["service_type"] == "dir"

    code, out, _ = cli_env.run("connector", "show", connector_id)
    assert code == 0 and "status:" in out and "schedules (UTC):" in out

    code, out, err = cli_env.run("connector", "delete", connector_id)
    assert code == 0, err
    assert cli_env.connector_doc(connector_id)["deleted"] is True
    code, out, err = cli_env.run("connector", "show", connector_id)
    assert code == 1 and one_line(err) and f"no connector with id '{connector_id}'" in err
    assert connector_id not in cli_env.run("connector", "list")[1]


def test_schedule(cli_env):
    connector_id = cli_env.create("--set", "directory=/x")
    code, out, err = cli_env.run(
        "connector",
        "schedule",
        connector_id,
        "--full",
        "0 0 * * * ?",
        "--access-control",
        "0 30 2 ? * MON-FRI",
    )
    assert code == 0, err
    assert "full" in out and "0 0 * * * ?" in out
    doc = cli_env.connector_doc(connector_id)
    assert doc["scheduling"]["full"] == {"enabled": True, "interval": "0 0 * * * ?"}
    assert doc["scheduling"]["access_control"] == {
        "enabled": True,
        "interval": "0 30 2 ? * MON-FRI",
    }
    assert doc["scheduling"]["incremental"]["enabled"] is False

    code, _, err = cli_env.run("connector", "schedule", connector_id, "--disable", "full")
    assert code == 0, err
    doc = cli_env.connector_doc(connector_id)
    assert doc["scheduling"]["full"] == {"enabled": False, "interval": "0 0 * * * ?"}

    code, _, err = cli_env.run("connector", "schedule", connector_id, "--full", "*/5 * * * *")
    assert code == 2 and one_line(err) and "6 or 7" in err
    code, _, err = cli_env.run("connector", "schedule", connector_id)
    assert code == 2 and "at least one" in err


def test_config_problems_exit_2_and_unreachable_cluster_exits_1(cli_env, tmp_path):
    code, _, err = cli_env.run("connector", "list", "-c", str(tmp_path / "missing.yml"))
    assert code == 2 and one_line(err) and "missing.yml" in err and "not found" in err
    down = tmp_path / "down.yml"
    down.write_text("elasticsearch:\n  host: http://127.0.0.1:9\n  max_retries: 0\n")
    code, _, err = cli_env.run("connector", "list", "-c", str(down))
    assert code == 1 and one_line(err) and "cannot reach Elasticsearch" in err
    assert "127.0.0.1:9" in err


def test_generated_ids_starting_with_a_dash_are_ids_not_options(cli_env):
    """1 in 64 generated ids starts with '-'; `sluice connector show -Abc...` must work."""
    from sluice.core.protocol import open_store

    dashed = "-" + uuid.uuid4().hex[:19]

    async def create(client):
        store = await open_store(client)
        await store.create_connector(
            connector_id=dashed, index_name=cli_env.index_name(), service_type="dir", name="dash"
        )

    cli_env.es(create)
    cli_env.connector_ids.append(dashed)
    code, out, err = cli_env.run("connector", "show", dashed)
    assert code == 0, err
    assert dashed in out
    code, out, err = cli_env.run("job", "list", dashed)
    assert code == 0, err


def _index_shape(cli_env, index: str) -> dict:
    """Settings and mappings of `index`, without what differs between any two indices."""

    async def read(client):
        settings = (await client.indices.get_settings(index=index))[index]["settings"]["index"]
        mappings = (await client.indices.get_mapping(index=index))[index]["mappings"]
        return settings, mappings

    settings, mappings = cli_env.es(read)
    for key in ("uuid", "creation_date", "provided_name", "version"):
        settings.pop(key, None)
    return {"settings": settings, "mappings": mappings}


def test_create_makes_the_content_index_the_wizard_makes(cli_env):
    """`connector create` and the wizard (its index step) create the content index with the
    same settings, mappings and language analyzer."""
    from sluice.core.workflows.cluster import Cluster

    cli_index = cli_env.index_name()
    code, out, err = cli_env.run(
        "connector",
        "create",
        "--service-type",
        "dir",
        "--name",
        "same index",
        "--index-name",
        cli_index,
        "--language",
        "fr",
        "--set",
        "directory=/srv/docs",
    )
    assert code == 0, err
    cli_env.remember(out)
    wizard_index = cli_env.index_name()

    async def wizard(_client):
        async with Cluster(cli_env.settings) as cluster:
            return await cluster.create_index(wizard_index, "fr")

    assert cli_env.es(wizard) is True
    by_cli, by_wizard = _index_shape(cli_env, cli_index), _index_shape(cli_env, wizard_index)
    assert by_cli == by_wizard
    assert by_cli["settings"]["analysis"]["analyzer"]["default"]["type"] == "french"
    assert by_cli["mappings"]["properties"]["body"] == {"type": "text"}


def test_show_and_list_read_a_connector_elastic_checked_in(cli_env):
    """The golden record of a connector Elastic's service checked in (tests/golden/records):
    shown with its status, configuration (the secret masked) and schedules."""
    connector_id = f"golden-{uuid.uuid4().hex[:10]}"
    _, doc = golden.record("connector_elastic_connected.json")
    doc["index_name"] = cli_env.index_name()
    secret = doc["configuration"]["password"]["value"]

    async def put(client):
        await IndexConnectorStore(client).ensure_indices()
        await client.options(headers=ORIGIN).index(
            index=".elastic-connectors", id=connector_id, document=doc, refresh=True
        )

    cli_env.es(put)
    cli_env.connector_ids.append(connector_id)

    code, out, err = cli_env.run("connector", "show", connector_id)
    assert code == 0, err
    assert "connected" in out and "pg.internal.example" in out and "5432" in out
    assert "0 0 2 * * ?" in out
    assert secret not in out and secret not in err
    code, out, err = cli_env.run("connector", "show", connector_id, "--json")
    assert code == 0, err
    shown = json_out(out)
    assert (shown["id"], shown["status"]) == (connector_id, "connected")
    assert shown["configuration"]["port"]["value"] == 5432
    assert shown["last_seen"] == doc["last_seen"]
    assert secret not in out
    code, out, err = cli_env.run("connector", "list", "--json")
    assert code == 0, err
    assert connector_id in [c["id"] for c in json_out(out)]
