"""`sluice deploy` and `sluice connector create` for types only Elastic's connector service
runs, against the cluster under test; Elastic's service itself is the FAKE of
tests/fakes/fake_elastic_service.py (it is on no package registry)."""

from __future__ import annotations

import base64
import json
import re
import stat
import uuid
from typing import Any

import pytest
import yaml

from tests.cli.connector_fixtures import cli_environment, one_line
from tests.fakes.fake_elastic_service import FakeElasticService, wait_until

pytestmark = pytest.mark.es

IMAGE = "docker.elastic.co/integrations/elastic-connectors"


@pytest.fixture
def cli_env(tmp_path, capsys):
    yield from cli_environment(tmp_path, capsys)


def create_elastic_type(cli_env, service_type: str = "confluence") -> tuple[str, str]:
    """A connector of a type only Elastic's service runs, in config.yml: (id, stderr)."""
    code, out, err = cli_env.run(
        "connector",
        "create",
        "--service-type",
        service_type,
        "--name",
        "team wiki",
        "--index-name",
        cli_env.index_name(),
        "--write-config",
    )
    assert code == 0, err
    return cli_env.remember(out), err


def cluster_version(cli_env) -> tuple[str, str, str]:
    """(number as the cluster says it, X.Y.Z tag, X.Y branch)."""
    info = cli_env.es(lambda client: client.info())
    number = str(info["version"]["number"])
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", number)
    assert match is not None, number
    return number, match[0], f"{match[1]}.{match[2]}"


def service_headers(settings: dict[str, Any]) -> dict[str, str]:
    """The fake service's credentials: the cluster's own, as Elastic's service would use."""
    if settings.get("ca_certs"):
        pytest.skip("the fake Elastic service has no CA option")
    if settings.get("api_key"):
        return {"Authorization": f"ApiKey {settings['api_key']}"}
    if settings.get("username"):
        pair = f"{settings['username']}:{settings.get('password', '')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    return {}


# ---------------------------------------------------------------------------- connector create


def test_create_for_a_type_only_elastic_runs_makes_an_empty_created_record(cli_env):
    connector_id, err = create_elastic_type(cli_env)
    doc = cli_env.connector_doc(connector_id)
    assert doc["service_type"] == "confluence"
    assert doc["status"] == "created"
    assert not doc.get("configuration")  # Elastic's service writes its schema at check-in
    assert doc["deleted"] is False
    assert bool(cli_env.es(lambda client: client.indices.exists(index=doc["index_name"])))

    assert "confluence is run by Elastic's connector service" in err
    assert f"deploy {connector_id}" in err
    assert "writes the configuration fields when it checks in" in err
    entries = yaml.safe_load(cli_env.config.read_text())["connectors"]
    assert {"connector_id": connector_id, "service_type": "confluence"} in entries


def test_create_refuses_set_for_a_type_only_elastic_runs(cli_env):
    index = cli_env.index_name()
    code, out, err = cli_env.run(
        "connector",
        "create",
        "--service-type",
        "confluence",
        "--name",
        "wiki",
        "--index-name",
        index,
        "--set",
        "confluence_url=https://wiki.example.com",
    )
    assert code == 2
    assert out == ""
    assert one_line(err) and err.startswith("sluice: error: --set: ")
    assert "Confluence (confluence) is run by Elastic's connector service" in err
    assert "connector configure" in err
    assert not bool(cli_env.es(lambda client: client.indices.exists(index=index)))

    async def records(client):
        direct = client.options(headers={"X-elastic-product-origin": "connectors"})
        await direct.options(ignore_status=404).indices.refresh(index=".elastic-connectors")
        found = await direct.options(ignore_status=404).count(
            index=".elastic-connectors", query={"term": {"index_name": index}}
        )
        return found.get("count", 0)

    assert cli_env.es(records) == 0


# ---------------------------------------------------------------------------- deploy: the commands


def test_deploy_prints_the_docker_command_at_the_clusters_version(cli_env):
    connector_id, _ = create_elastic_type(cli_env)
    _, tag, _ = cluster_version(cli_env)
    code, out, err = cli_env.run("deploy", connector_id)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "# team wiki (confluence) — run by Elastic's connector service"
    assert lines[1] == "# Elastic's service with Docker"
    assert f"docker pull {IMAGE}:{tag}" in lines
    assert f"  {IMAGE}:{tag} \\" in lines
    assert f"  -v {cli_env.config.parent}:/config \\" in lines
    assert "  /app/bin/elastic-ingest -c /config/config.yml" in lines
    assert f"sluice: Version {tag} matches the cluster" in err
    host = cli_env.settings["host"]
    if host.startswith(("http://127.", "http://localhost", "https://127.", "https://localhost")):
        assert "  --network host \\" in lines
        assert "host.docker.internal" in err


def test_deploy_source_clones_the_clusters_branch(cli_env):
    connector_id, _ = create_elastic_type(cli_env)
    _, _, branch = cluster_version(cli_env)
    code, out, err = cli_env.run("deploy", connector_id, "--source")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1] == "# Elastic's service from source"
    assert f"git clone --branch {branch} --depth 1 https://github.com/elastic/connectors.git" in (
        lines
    )
    assert f"ln -sf {cli_env.config} config.yml" in lines
    assert lines[-1] == "make run"


@pytest.mark.parametrize("target", ["--sluice", "--systemd"])
def test_deploy_refuses_sluices_service_for_a_type_it_does_not_run(cli_env, target):
    connector_id, _ = create_elastic_type(cli_env)
    code, out, err = cli_env.run("deploy", connector_id, target)
    assert code == 2
    assert out == ""
    assert one_line(err)
    assert f"{target}: confluence is run by Elastic's connector service only" in err
    assert "use --docker or --source" in err


def test_deploy_json(cli_env):
    connector_id, _ = create_elastic_type(cli_env)
    number, tag, _ = cluster_version(cli_env)
    code, out, err = cli_env.run("deploy", connector_id, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["connector_id"] == connector_id
    assert data["service_type"] == "confluence"
    assert data["runner"] == "elastic"
    assert data["target"] == "docker"
    assert data["cluster_version"] == number
    assert data["commands"][0] == f"docker pull {IMAGE}:{tag}"
    assert data["blockers"] == []
    assert data["unit"] is None and data["written"] is None
    assert any(f"Version {tag} matches the cluster" in n for n in data["notes"])


def test_deploy_a_dir_connector_runs_sluice_and_writes_its_systemd_unit(cli_env, tmp_path):
    connector_id = cli_env.create("--set", f"directory={tmp_path}", "--write-config")
    code, out, err = cli_env.run("deploy", connector_id)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].endswith("(dir) — run by Sluice")
    assert lines[1] == "# Sluice's service"
    assert lines[2].endswith(f" run -c {cli_env.config}")

    units = tmp_path / "units"
    units.mkdir()
    code, out, err = cli_env.run("deploy", connector_id, "--systemd", "--write", str(units))
    assert code == 0, err
    written = list(units.iterdir())
    assert len(written) == 1
    unit = written[0]
    assert re.fullmatch(r"sluice-[a-z0-9-]+\.service", unit.name), unit.name
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644
    text = unit.read_text()
    exec_start = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    assert len(exec_start) == 1 and exec_start[0].endswith(f" run -c {cli_env.config}")
    assert "[Install]" in text
    assert f"sluice: wrote {unit}" in err
    assert "[Service]" not in out  # written, not printed again
    assert f"systemctl --user enable --now {unit.name}" in out.splitlines()


def test_deploy_systemd_without_write_prints_the_unit(cli_env):
    connector_id = cli_env.create("--set", "directory=/srv/docs")
    code, out, err = cli_env.run("deploy", connector_id, "--systemd")
    assert code == 0, err
    assert "[Service]" in out
    assert f"run -c {cli_env.config}" in out


def test_write_needs_systemd(cli_env):
    code, out, err = cli_env.run("deploy", "any-id", "--write", "/tmp/x.service")
    assert code == 2
    assert out == ""
    assert "--write: only the systemd unit is a file; add --systemd" in err


def test_deploy_unknown_connector(cli_env):
    missing = f"sluice-test-missing-{uuid.uuid4().hex[:8]}"
    code, out, err = cli_env.run("deploy", missing)
    assert code == 1
    assert out == ""
    assert one_line(err) and f"no connector with id '{missing}'" in err


# ---------------------------------------------------------------------------- deploy --check


def test_check_before_and_after_elastics_service_checked_in(cli_env):
    connector_id, _ = create_elastic_type(cli_env)
    headers = service_headers(cli_env.settings)

    code, out, err = cli_env.run("deploy", connector_id, "--check")
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0] == f"{connector_id}: waiting (status created, last seen never)"
    assert "  warn  Service heartbeat: no service has checked in for this connector yet" in lines
    assert (
        f"        fix: start the service: `sluice deploy {connector_id}` (or the Deploy view) "
        "prints the commands"
    ) in lines

    code, out, _ = cli_env.run("deploy", connector_id, "--check", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["phase"] == "waiting"
    assert data["last_seen"] is None
    assert data["causes"][0]["id"] == "heartbeat"
    assert data["causes"][0]["status"] == "warn"

    with FakeElasticService(
        cli_env.settings["host"], {connector_id: "confluence"}, headers=headers
    ) as service:

        def checked_in() -> bool:
            doc = cli_env.connector_doc(connector_id)
            return doc.get("status") == "needs_configuration" and bool(doc.get("last_seen"))

        wait_until(checked_in)
        code, out, err = cli_env.run("deploy", connector_id, "--check")
        assert code == 0, out + err
        assert out.startswith(f"{connector_id}: needs_configuration (status needs_configuration")
        assert "FAIL" not in out

        code, out, _ = cli_env.run("deploy", connector_id, "--check", "--json")
        assert code == 0
        data = json.loads(out)
        assert data["phase"] == "needs_configuration"
        assert data["last_seen"] is not None
        assert data["causes"] == []
    assert service.errors == []
    assert "confluence_url" in cli_env.connector_doc(connector_id)["configuration"]
