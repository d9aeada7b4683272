"""The commands that run the service for a config.yml (`core.deployment`, built from real
config.yml files by `core.workflows.deploy`): pure text, no cluster, nothing run."""

from __future__ import annotations

import shlex
import stat
from pathlib import Path

import pytest
import yaml

from sluice.core.deployment import (
    DeployFacts,
    is_loopback_host,
    plan,
    referenced_variables,
    secret_references,
    service_version,
    unit_name,
    versions_compatible,
)
from sluice.core.workflows.deploy import build_deployment, deploy_facts, write_unit

IMAGE = "docker.elastic.co/integrations/elastic-connectors"
LOCAL = "http://localhost:9200"
REMOTE = "https://es.example.com:9243"


def write_config(
    folder: Path,
    *,
    host: str = LOCAL,
    name: str = "config.yml",
    service_type: str = "dir",
    **elasticsearch: object,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    document = {
        "elasticsearch": {"host": host, **elasticsearch},
        "connectors": [{"connector_id": "conn-1", "service_type": service_type}],
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def docker_run(deployment) -> list[str]:
    """The `docker run` command's lines (the second command; the first is `docker pull`)."""
    commands = deployment.plans["docker"].commands
    assert commands[0].startswith("docker pull ")
    return [line.rstrip(" \\").strip() for line in commands[1].splitlines()]


def elastic(path: Path, version: str | None = "8.15.3"):
    return build_deployment(path, "confluence", cluster_version=version, runs_in_sluice=False)


def sluice(path: Path, version: str | None = "8.15.3"):
    return build_deployment(path, "dir", cluster_version=version, runs_in_sluice=True)


# ---------------------------------------------------------------------------- docker


def test_loopback_host_runs_the_container_on_the_host_network(tmp_path):
    deployment = elastic(write_config(tmp_path, host=LOCAL))
    lines = docker_run(deployment)
    assert "--network host" in lines
    notes = " ".join(deployment.plans["docker"].notes)
    assert "host.docker.internal" in notes
    assert "localhost is the container itself" in notes


def test_remote_host_has_no_host_network_and_no_docker_desktop_note(tmp_path):
    deployment = elastic(write_config(tmp_path, host=REMOTE))
    lines = docker_run(deployment)
    assert "--network host" not in lines
    assert not any("--network" in line for line in lines)
    notes = " ".join(deployment.plans["docker"].notes)
    assert "host.docker.internal" not in notes
    assert f"The container must reach {REMOTE}" in notes


def test_image_tag_and_source_branch_are_the_clusters_version(tmp_path):
    deployment = elastic(write_config(tmp_path), version="8.15.3")
    docker = deployment.plans["docker"]
    assert docker.commands[0] == f"docker pull {IMAGE}:8.15.3"
    assert f"{IMAGE}:8.15.3" in docker_run(deployment)
    assert (docker.facts["image"], docker.facts["tag"]) == (f"{IMAGE}:8.15.3", "8.15.3")
    assert any("Version 8.15.3 matches the cluster" in note for note in docker.notes)

    source = deployment.plans["source"]
    assert source.commands[0] == (
        "git clone --branch 8.15 --depth 1 https://github.com/elastic/connectors.git"
    )
    assert source.facts["branch"] == "8.15"
    assert source.commands[-1] == "make run"


def test_unknown_cluster_version_gives_a_placeholder_and_says_so(tmp_path):
    deployment = elastic(write_config(tmp_path), version=None)
    docker, source = deployment.plans["docker"], deployment.plans["source"]
    assert docker.commands[0] == f"docker pull {IMAGE}:<your Elasticsearch version, e.g. 9.2.0>"
    assert source.commands[0].startswith("git clone --branch <major.minor of your cluster")
    for each in (docker, source):
        assert any("The cluster's version is unknown here" in note for note in each.notes)
        assert not any("matches the cluster" in note for note in each.notes)


def test_config_folder_is_mounted_at_config_and_named_by_its_file(tmp_path):
    path = write_config(tmp_path / "team setup", name="prod-connectors.yml")
    lines = docker_run(elastic(path))
    folder = str(tmp_path / "team setup")
    assert f"-v {shlex.quote(folder + ':/config')}" in lines
    assert lines[-1] == "/app/bin/elastic-ingest -c /config/prod-connectors.yml"


def test_absolute_ca_certs_folder_is_mounted_read_only(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    path = write_config(tmp_path / "conf", host=REMOTE, ca_certs=str(certs / "ca.pem"))
    deployment = elastic(path)
    assert deployment.facts.ca_certs == (str(certs / "ca.pem"),)
    assert f"-v {shlex.quote(f'{certs}:{certs}:ro')}" in docker_run(deployment)
    assert not any("relative path" in note for note in deployment.plans["docker"].notes)


def test_relative_ca_certs_gives_a_note_and_no_mount(tmp_path):
    path = write_config(tmp_path, host=REMOTE, ca_certs="certs/ca.pem")
    deployment = elastic(path)
    lines = docker_run(deployment)
    assert not any(line.endswith(":ro") for line in lines)
    notes = deployment.plans["docker"].notes
    assert any(
        note.startswith("ca_certs certs/ca.pem is a relative path: make it absolute")
        for note in notes
    )


def test_environment_variables_are_passed_and_exported_never_their_values(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text(
        "# api_key: ${OLD_KEY}\n"
        "elasticsearch:\n"
        f"  host: {REMOTE}\n"
        "  api_key: ${ES_API_KEY}\n"
        "connectors:\n"
        "  - connector_id: conn-1\n"
        "    service_type: confluence\n"
        "    api_key: ${CONNECTOR_KEY}\n"
        "  - connector_id: conn-2\n"
        "    service_type: jira\n"
        "    api_key: ${CONNECTOR_KEY}\n",
        encoding="utf-8",
    )
    deployment = build_deployment(
        path,
        "confluence",
        cluster_version="9.1.2",
        runs_in_sluice=False,
        environ={"ES_API_KEY": "s3cret-es-value", "CONNECTOR_KEY": "s3cret-conn-value"},
    )
    assert deployment.facts.variables == ("ES_API_KEY", "CONNECTOR_KEY")  # once each, in order
    lines = docker_run(deployment)
    assert [line for line in lines if line.startswith("-e ")] == [
        "-e ES_API_KEY",
        "-e CONNECTOR_KEY",
    ]
    source = deployment.plans["source"]
    exports = [c for c in source.commands if c.startswith("export ")]
    assert exports == [
        "export ES_API_KEY=…  # the secret's value",
        "export CONNECTOR_KEY=…  # the secret's value",
    ]
    assert source.commands.index(exports[-1]) < source.commands.index("make run")
    everything = "\n".join(
        line for p in deployment.plans.values() for line in (*p.commands, *p.notes, *p.blockers)
    )
    assert "s3cret" not in everything
    assert "OLD_KEY" not in everything  # a comment line is not read
    assert any(
        "config.yml reads ES_API_KEY, CONNECTOR_KEY from the environment: export them" in note
        for note in deployment.plans["docker"].notes
    )


def test_keyring_references_block_elastics_service_only(tmp_path):
    path = write_config(
        tmp_path,
        host=REMOTE,
        api_key="keyring:sluice/es-api-key",
    )
    deployment = sluice(path)
    assert deployment.facts.keyring_keys == ("elasticsearch.api_key",)
    for target in ("docker", "source"):
        blockers = deployment.plans[target].blockers
        assert len(blockers) == 1
        assert blockers[0].startswith(
            "config.yml keeps elasticsearch.api_key in the OS keyring, which Elastic's "
            "service cannot read"
        )
        assert "environment variable" in blockers[0]
    for target in ("sluice", "systemd"):
        assert deployment.plans[target].blockers == ()
    assert any("OS keyring" in note for note in deployment.plans["systemd"].notes)


def test_no_keyring_reference_no_blocker(tmp_path):
    deployment = elastic(write_config(tmp_path, host=REMOTE, api_key="${ES_API_KEY}"))
    assert deployment.facts.keyring_keys == ()
    assert all(p.blockers == () for p in deployment.plans.values())


# ---------------------------------------------------------------------------- runners


def test_a_type_sluice_runs_gets_every_target_sluice_first(tmp_path):
    deployment = sluice(write_config(tmp_path))
    assert deployment.runner == "sluice"
    assert set(deployment.plans) == {"docker", "source", "sluice", "systemd"}
    assert deployment.default_target == "sluice"
    assert deployment.targets_for("sluice") == ["sluice", "systemd"]
    assert deployment.targets_for("elastic") == ["docker", "source"]


def test_a_type_only_elastic_runs_gets_no_sluice_target(tmp_path):
    deployment = elastic(write_config(tmp_path, service_type="confluence"))
    assert deployment.runner == "elastic"
    assert set(deployment.plans) == {"docker", "source"}
    assert deployment.default_target == "docker"


def test_sluice_plan_runs_the_config_file_by_its_absolute_path(tmp_path, monkeypatch):
    write_config(tmp_path)
    monkeypatch.chdir(tmp_path)
    deployment = sluice(Path("config.yml"))  # relative, as a user types it
    facts = deployment.facts
    assert facts.config_path == tmp_path / "config.yml"
    assert facts.sluice_command.startswith("/") or " -m sluice" in facts.sluice_command
    assert deployment.plans["sluice"].commands == (
        f"{facts.sluice_command} run -c {shlex.quote(str(tmp_path / 'config.yml'))}",
    )


def test_unknown_target_is_refused(tmp_path):
    facts = deploy_facts(write_config(tmp_path))
    with pytest.raises(ValueError, match="unknown target 'kubernetes'"):
        plan("kubernetes", facts)


# ---------------------------------------------------------------------------- systemd


def unit_lines(deployment) -> list[str]:
    text = deployment.plans["systemd"].unit_text
    assert text is not None
    return text.splitlines()


def test_systemd_unit_starts_sluice_run_on_the_absolute_config(tmp_path, monkeypatch):
    folder = tmp_path / "acme"
    write_config(folder)
    monkeypatch.chdir(folder)
    deployment = sluice(Path("config.yml"))
    lines = unit_lines(deployment)
    command = deployment.facts.sluice_command
    assert f"ExecStart={command} run -c {folder / 'config.yml'}" in lines
    assert f"WorkingDirectory={folder}" in lines
    assert "[Install]" in lines and "WantedBy=default.target" in lines
    assert not any(line.startswith("EnvironmentFile=") for line in lines)
    systemd = deployment.plans["systemd"]
    assert systemd.unit_name == "sluice-acme.service"
    assert "systemctl --user enable --now sluice-acme.service" in systemd.commands


def test_systemd_unit_keeps_a_config_path_with_a_space_in_one_argument(tmp_path):
    folder = tmp_path / "My Connectors"
    deployment = sluice(write_config(folder))
    (exec_start,) = [line for line in unit_lines(deployment) if line.startswith("ExecStart=")]
    # systemd splits ExecStart= like a shell: whitespace separates, quotes group
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    assert argv[-3:] == ["run", "-c", str(folder / "config.yml")]


def test_systemd_unit_loads_sluices_env_file_when_there_is_one(tmp_path):
    path = write_config(tmp_path / "acme", api_key="${ES_API_KEY}")
    env_file = tmp_path / "acme" / ".sluice" / "sluice.env"
    without = sluice(path)
    assert without.facts.env_file is None
    assert any("add Environment= lines" in n for n in without.plans["systemd"].notes)

    env_file.parent.mkdir()
    env_file.write_text("ES_API_KEY=abc\n")
    env_file.chmod(0o600)
    deployment = sluice(path)
    assert deployment.facts.env_file == env_file
    assert f"EnvironmentFile=-{env_file}" in unit_lines(deployment)
    assert not any("add Environment= lines" in n for n in deployment.plans["systemd"].notes)
    assert f"--env-file {env_file}" in docker_run(deployment)
    assert any(f"set -a; . {env_file}; set +a" in n for n in deployment.plans["source"].notes)


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("acme", "sluice-acme.service"),
        ("Team A", "sluice-team-a.service"),
        ("prod_connectors.v2", "sluice-prod-connectors-v2.service"),
        ("--", "sluice-connectors.service"),
    ],
)
def test_unit_name_is_per_config_folder(folder, expected):
    assert unit_name(Path("/srv") / folder / "config.yml") == expected


def test_two_setups_on_one_machine_get_two_units(tmp_path):
    first = sluice(write_config(tmp_path / "sales"))
    second = sluice(write_config(tmp_path / "support"))
    assert first.plans["systemd"].unit_name != second.plans["systemd"].unit_name


def test_write_unit_writes_the_unit_0644_into_a_folder_or_a_file(tmp_path):
    deployment = sluice(write_config(tmp_path / "acme"))
    units = tmp_path / "units"
    units.mkdir()
    written = write_unit(deployment, units)
    assert written == units / "sluice-acme.service"
    assert written.read_text() == deployment.plans["systemd"].unit_text
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    assert "ExecStart=" in written.read_text()

    named = write_unit(deployment, tmp_path / "other" / "my.service")
    assert named == tmp_path / "other" / "my.service"
    assert named.read_text() == deployment.plans["systemd"].unit_text
    assert stat.S_IMODE(named.stat().st_mode) == 0o644


def test_write_unit_refuses_a_type_only_elastic_runs(tmp_path):
    deployment = elastic(write_config(tmp_path, service_type="confluence"))
    destination = tmp_path / "units"
    destination.mkdir()
    with pytest.raises(ValueError, match="not run by Sluice"):
        write_unit(deployment, destination)
    assert list(destination.iterdir()) == []


# ---------------------------------------------------------------------------- versions


@pytest.mark.parametrize(
    ("cluster", "expected"),
    [
        ("8.15.3", ("8.15.3", "8.15")),
        ("9.1.0-SNAPSHOT", ("9.1.0", "9.1")),
        ("10.0.12", ("10.0.12", "10.0")),
        (None, None),
        ("", None),
        ("8.15", None),
    ],
)
def test_service_version_matches_the_cluster(cluster, expected):
    assert service_version(cluster) == expected


@pytest.mark.parametrize(
    ("cluster", "service", "reason"),
    [
        ("8.15.3", "9.6.0", "major versions differ"),
        ("9.1.0", "8.18.2", "major versions differ"),
        ("8.15.3", "8.16.0", "the cluster's minor version is older"),
        ("9.0.4", "9.6.0", "the cluster's minor version is older"),
    ],
)
def test_versions_elastics_service_refuses(cluster, service, reason):
    assert versions_compatible(cluster, service) == (
        f"Elastic's service {service} refuses Elasticsearch {cluster}: {reason}"
    )


@pytest.mark.parametrize(
    ("cluster", "service"),
    [
        ("8.15.3", "8.15.3"),  # same
        ("8.15.3", "8.15.0"),  # another patch
        ("8.16.1", "8.15.3"),  # cluster minor newer: a warning in its log, not a refusal
        ("8.15.3", "not-a-version"),
    ],
)
def test_versions_elastics_service_accepts(cluster, service):
    assert versions_compatible(cluster, service) is None


# ---------------------------------------------------------------------------- hosts, secrets


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("http://localhost:9200", True),
        ("https://localhost", True),
        ("localhost:9200", True),
        ("http://127.0.0.1:9200", True),
        ("http://127.0.0.2:9200", True),
        ("http://[::1]:9200", True),
        ("https://es.example.com:9243", False),
        ("https://10.0.0.5:9200", False),
        ("http://host.docker.internal:9200", False),
    ],
)
def test_is_loopback_host(host, loopback):
    assert is_loopback_host(host) is loopback


def test_secret_references_name_every_keyring_value_by_its_dotted_key():
    data = {
        "elasticsearch": {"host": LOCAL, "api_key": "keyring:sluice/es-key"},
        "connectors": [
            {"connector_id": "a", "api_key": "${A_KEY}"},
            {"connector_id": "b", "api_key": "keyring:sluice/b-key"},
        ],
        "note": "keyring: is how we write references",
    }
    assert secret_references(data) == ["elasticsearch.api_key", "connectors.1.api_key"]


def test_referenced_variables_once_each_in_order_comments_skipped():
    text = (
        "# password: ${IN_A_COMMENT}\n"
        "elasticsearch:\n"
        "  api_key: ${B_KEY}\n"
        "  username: ${A_USER}\n"
        "  password: ${B_KEY}\n"
    )
    assert referenced_variables(text) == ("B_KEY", "A_USER")


def test_referenced_variables_agree_with_the_substitution_elastics_service_does():
    text = (
        "elasticsearch:\n"
        "  # api_key: ${INDENTED_COMMENT}\n"
        "  username: $PLAIN_USER\n"
        "  password: ${WITH_DEFAULT|changeme}\n"
    )
    assert referenced_variables(text) == ("INDENTED_COMMENT", "PLAIN_USER")


def test_facts_are_read_without_resolving_secrets(tmp_path):
    path = write_config(tmp_path, host=REMOTE, api_key="${NEVER_SET_IN_THIS_TEST}")
    facts = deploy_facts(path, cluster_version="9.2.0", environ={})
    assert isinstance(facts, DeployFacts)
    assert facts.variables == ("NEVER_SET_IN_THIS_TEST",)
    assert facts.es_host == REMOTE
    assert facts.cluster_version == "9.2.0"
    assert facts.config_path == path
