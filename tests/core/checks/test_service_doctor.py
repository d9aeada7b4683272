"""Why no service checks in for a connector (`diagnose_silence`): one test per cause, each
with a real config.yml in tmp_path and the checks run against the cluster it names — the
cluster under test, a closed port, or the FAKE secured Elasticsearch (tests/fakes).

A connector that never checked in shows the heartbeat as a warning (the symptom, first); the
cause is the first item after it that is not `ok`, and the first `fail` overall."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from sluice.core.checks.result import CheckResult
from sluice.core.checks.service_doctor import SilenceInputs, diagnose_silence
from sluice.core.protocol import Connector
from sluice.core.protocol.timeutil import to_iso
from tests.conftest import es_settings
from tests.servers.ports import free_port

pytestmark = pytest.mark.es

ORDER = ["heartbeat", "config", "service_type", "reach", "credentials", "version", "log"]
CREDENTIAL_KEYS = ("api_key", "username", "password")


def new_id() -> str:
    return f"sluice-doctor-{uuid.uuid4().hex[:12]}"


def connector(
    connector_id: str, service_type: str = "dir", *, last_seen: datetime | None = None
) -> Connector:
    """The record as the doctor reads it (never written to the cluster)."""
    return Connector(
        connector_id,
        {
            "service_type": service_type,
            "name": "doctor test",
            "index_name": f"search-sluice-test-{uuid.uuid4().hex[:10]}",  # never created
            "status": "created",
            "configuration": {},
            "last_seen": to_iso(last_seen) if last_seen else None,
            "error": None,
            "deleted": False,
        },
    )


def write_config(
    path: Path,
    *,
    elasticsearch: dict[str, Any] | None = None,
    connectors: list[dict[str, str]] | None = None,
) -> Path:
    settings = elasticsearch if elasticsearch is not None else es_settings()
    path.write_text(
        yaml.safe_dump(
            {"elasticsearch": settings, "connectors": connectors or []}, sort_keys=False
        ),
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def without_credentials(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k not in CREDENTIAL_KEYS}


def entry(connector_id: str, service_type: str = "dir") -> dict[str, str]:
    return {"connector_id": connector_id, "service_type": service_type}


async def diagnose(
    config: Path, record: Connector, *, now: datetime | None = None, **inputs: Any
) -> list[CheckResult]:
    items = await diagnose_silence(
        SilenceInputs(config_path=config, connector=record, connector_id=record.id, **inputs),
        now=now,
    )
    assert [item.id for item in items] == ORDER
    return items


def cause(items: list[CheckResult]) -> CheckResult:
    """The first item after the (warning) heartbeat that is not ok/skip."""
    heartbeat, *rest = items
    assert (heartbeat.id, heartbeat.status) == ("heartbeat", "warn"), heartbeat
    found = [item for item in rest if item.status in ("fail", "warn")]
    assert found, items
    return found[0]


def first_failure(items: list[CheckResult]) -> CheckResult:
    """The first `fail` after the heartbeat."""
    cause(items)
    failed = [item for item in items[1:] if item.status == "fail"]
    assert failed, items
    return failed[0]


def text(item: CheckResult) -> str:
    return f"{item.message} {item.hint or ''}"


async def cluster_version(es) -> str:
    return str((await es.info())["version"]["number"])


# ---------------------------------------------------------------------------- no service


async def test_no_service_ever_checked_in_and_no_cause_found(tmp_path):
    cid = new_id()
    config = write_config(tmp_path / "config.yml", connectors=[entry(cid)])
    items = await diagnose(config, connector(cid), target="sluice")
    heartbeat = items[0]
    assert heartbeat.status == "warn"
    assert heartbeat.message == "no service has checked in for this connector yet"
    assert f"sluice deploy {cid}" in (heartbeat.hint or "")
    assert [i.id for i in items if i.status == "fail"] == []
    assert items[1].status == "ok" and cid in items[1].message  # config.yml is fine


async def test_a_stale_heartbeat_says_the_service_stopped(tmp_path):
    cid = new_id()
    config = write_config(tmp_path / "config.yml", connectors=[entry(cid)])
    now = datetime.now(UTC)
    record = connector(cid, last_seen=now - timedelta(hours=3))
    items = await diagnose(config, record, target="docker", now=now)
    heartbeat = items[0]
    assert heartbeat.status == "warn"
    assert heartbeat.message.startswith("last check-in 3 h ago")
    assert "stopped" in heartbeat.message
    assert "docker logs -f elastic-connectors" in (heartbeat.hint or "")


async def test_a_connector_missing_from_the_cluster(tmp_path):
    cid = new_id()
    config = write_config(tmp_path / "config.yml", connectors=[entry(cid)])
    items = await diagnose_silence(
        SilenceInputs(config_path=config, connector=None, connector_id=cid, target="sluice")
    )
    assert items[0].status == "fail"
    assert (
        items[0].message == f"connector {cid} is not in this cluster (deleted, or another cluster)"
    )


# ---------------------------------------------------------------------------- config.yml


async def test_config_without_the_connector_id(tmp_path):
    cid, other = new_id(), new_id()
    config = write_config(tmp_path / "config.yml", connectors=[entry(other)])
    found = first_failure(await diagnose(config, connector(cid), target="sluice"))
    assert found.id == "config"
    assert found.message.startswith(f"config.yml lists {other} but not {cid}")
    assert "never looks at this connector" in found.message
    assert f"- connector_id: {cid}" in (found.hint or "")
    assert "restart the service" in (found.hint or "")


async def test_config_with_another_service_type(tmp_path):
    cid = new_id()
    config = write_config(tmp_path / "config.yml", connectors=[entry(cid, "mysql")])
    found = first_failure(await diagnose(config, connector(cid, "dir"), target="sluice"))
    assert found.id == "config"
    assert found.message == (
        "config.yml says service_type 'mysql' for this connector, the record says 'dir'"
    )
    assert "service_type: dir" in (found.hint or "")


async def test_config_with_no_connector_at_all(tmp_path):
    cid = new_id()
    config = write_config(tmp_path / "config.yml", connectors=[])
    found = first_failure(await diagnose(config, connector(cid), target="docker"))
    assert found.id == "config"
    assert found.message == "config.yml lists no connector: Elastic's service refuses to start"
    assert f"- connector_id: {cid}" in (found.hint or "")
    assert "service_type: dir" in (found.hint or "")


async def test_config_file_that_does_not_exist(tmp_path):
    cid = new_id()
    missing = tmp_path / "nowhere" / "config.yml"
    found = first_failure(await diagnose(missing, connector(cid), target="sluice"))
    assert found.id == "config"
    assert found.message == f"{missing} does not exist"


async def test_a_type_the_chosen_service_does_not_run(tmp_path):
    cid = new_id()
    config = write_config(tmp_path / "config.yml", connectors=[entry(cid, "confluence")])
    found = first_failure(
        await diagnose(
            config,
            connector(cid, "confluence"),
            target="sluice",
            runnable_types=frozenset({"dir", "mysql", "postgresql"}),
        )
    )
    assert found.id == "service_type"
    assert found.message == "Sluice has no 'confluence' source: it never takes this connector"


# ---------------------------------------------------------------------------- reaching the cluster


async def test_unreachable_elasticsearch(tmp_path):
    cid = new_id()
    host = f"http://127.0.0.1:{free_port()}"  # bound, released: nothing listens there
    settings = {"host": host, "request_timeout": 5, "max_retries": 0}
    config = write_config(tmp_path / "config.yml", elasticsearch=settings, connectors=[entry(cid)])
    items = await diagnose(config, connector(cid), target="sluice")
    found = first_failure(items)
    assert found.id == "reach"
    assert found.message.startswith(f"{host} from this machine: ")
    assert "connection refused" in found.message
    assert found.hint  # the connection check's fix, passed on
    by_id = {i.id: i for i in items}
    assert by_id["credentials"].status == "skip"  # nothing to judge the key with


async def test_docker_with_localhost_warns_that_localhost_is_the_container(tmp_path, fake_es):
    fake_es.cluster.security = "off"
    host = fake_es.url.replace("127.0.0.1", "localhost")
    cid = new_id()
    config = write_config(
        tmp_path / "config.yml",
        elasticsearch={"host": host, "request_timeout": 10, "max_retries": 0},
        connectors=[entry(cid, "confluence")],
    )
    items = await diagnose(config, connector(cid, "confluence"), target="docker")
    found = cause(items)
    assert (found.id, found.status) == ("reach", "warn")
    assert found.message == (
        f"elasticsearch.host is {host}: inside a container that is the container itself"
    )
    assert "--network host" in (found.hint or "")
    assert "host.docker.internal" in (found.hint or "")
    assert [i.id for i in items if i.status == "fail"] == []
    log = items[-1]
    assert "docker logs -f elastic-connectors" in (log.hint or "")
    assert cid in (log.hint or "")

    # the same cluster, run by Sluice's service on this machine: localhost is fine
    same = await diagnose(config, connector(cid, "confluence"), target="sluice")
    assert {i.id: i for i in same}["reach"].status == "ok"


# ---------------------------------------------------------------------------- credentials


async def test_keyring_secret_with_elastics_service(tmp_path):
    cid = new_id()
    settings = {**without_credentials(es_settings()), "api_key": "keyring:sluice/doctor-test-key"}
    config = write_config(
        tmp_path / "config.yml", elasticsearch=settings, connectors=[entry(cid, "confluence")]
    )
    found = first_failure(await diagnose(config, connector(cid, "confluence"), target="docker"))
    assert found.id == "credentials"
    assert found.message.startswith("elasticsearch.api_key is kept in the OS keyring")
    assert "Elastic's service" in found.message
    assert "environment variable" in (found.hint or "")


async def test_unset_environment_variable(tmp_path):
    cid = new_id()
    variable = "SLUICE_DOCTOR_UNSET_KEY"
    settings = {**without_credentials(es_settings()), "api_key": "${" + variable + "}"}
    config = write_config(
        tmp_path / "config.yml", elasticsearch=settings, connectors=[entry(cid, "confluence")]
    )
    items = await diagnose(config, connector(cid, "confluence"), target="source", environ={})
    found = cause(items)
    assert (found.id, found.status) == ("credentials", "warn")
    assert found.message.startswith(f"config.yml reads {variable} from the environment, unset")
    assert "-e NAME" in (found.hint or "") and "refuses to start" in (found.hint or "")
    assert [i.id for i in items if i.status == "fail"] == []

    # set where the doctor runs: no warning about it any more
    known = await diagnose(
        config, connector(cid, "confluence"), target="source", environ={variable: "abc"}
    )
    assert variable not in {i.id: i for i in known}["credentials"].message


async def test_rejected_api_key(tmp_path, fake_es):
    cid = new_id()
    secret = "bm9wZTpub3Bl"  # base64 of nope:nope, a key the cluster doesn't know
    config = write_config(
        tmp_path / "config.yml",
        elasticsearch={"host": fake_es.url, "api_key": secret, "max_retries": 0},
        connectors=[entry(cid)],
    )
    items = await diagnose(config, connector(cid), target="sluice")
    found = first_failure(items)
    assert found.id == "credentials"
    assert found.message.startswith("Authentication: Elasticsearch rejected an API key")
    assert secret not in text(found)
    assert {i.id: i for i in items}["reach"].status == "ok"  # the 401 is an answer


async def test_missing_privilege(tmp_path, fake_es):
    cid = new_id()
    record = connector(cid)
    key = fake_es.add_api_key(
        "k-doctor",
        "k-doctor-secret",
        "reader-key",
        "elastic",
        cluster={"monitor"},
        indices=[([record.index_name], {"read"})],
    )
    config = write_config(
        tmp_path / "config.yml",
        elasticsearch={"host": fake_es.url, "api_key": key, "max_retries": 0},
        connectors=[entry(cid)],
    )
    found = first_failure(await diagnose(config, record, target="sluice"))
    assert found.id == "credentials"
    assert found.message.startswith(
        "Privileges for the connector: missing: cluster manage_connector"
    )
    assert "manage_connector" in (found.hint or "")


# ---------------------------------------------------------------------------- version


async def test_a_service_release_newer_than_the_cluster_is_refused(tmp_path, es):
    version = await cluster_version(es)
    numbers = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    assert numbers is not None, version
    major, minor = int(numbers[1]), int(numbers[2])
    if major == 9 and minor >= 6:
        pytest.skip(f"Elasticsearch {version} accepts Elastic's service 9.6.0")
    reason = "major versions differ" if major != 9 else "the cluster's minor version is older"
    cid = new_id()
    config = write_config(tmp_path / "config.yml", connectors=[entry(cid, "confluence")])
    found = first_failure(
        await diagnose(
            config, connector(cid, "confluence"), target="source", service_version="9.6.0"
        )
    )
    assert found.id == "version"
    assert found.message == f"Elastic's service 9.6.0 refuses Elasticsearch {version}: {reason}"
    tag = numbers[0]
    assert found.hint == f"deploy release {tag} (Docker tag {tag}, branch {major}.{minor})"


# ---------------------------------------------------------------------------- all well


async def test_everything_fine_with_a_recent_check_in(tmp_path, es):
    version = await cluster_version(es)
    cid = new_id()
    config = write_config(tmp_path / "config.yml", connectors=[entry(cid, "confluence")])
    now = datetime.now(UTC)
    record = connector(cid, "confluence", last_seen=now - timedelta(seconds=30))
    items = await diagnose(
        config,
        record,
        now=now,
        target="source",
        service_version=version,
        runnable_types=frozenset({"confluence", "dir"}),
    )
    by_id = {i.id: i for i in items}
    assert by_id["heartbeat"].status == "ok"
    assert by_id["heartbeat"].message == "checked in 30 s ago"
    assert [i for i in items if i.status == "fail"] == []
    assert by_id["config"].message == f"config.yml names {cid} (confluence)"
    assert by_id["reach"].status == "ok"
    assert by_id["version"].status == "ok"
    assert by_id["version"].message == f"service {version} works with Elasticsearch {version}"


# ---------------------------------------------------------------------------- version parsing


async def test_the_clusters_version_is_read_without_the_product_checks_punctuation(tmp_path):
    cid = new_id()
    config = write_config(
        tmp_path / "config.yml",
        elasticsearch={"host": "http://127.0.0.1:9"},
        connectors=[entry(cid, "confluence")],
    )

    async def checks(settings: Any, **kwargs: Any) -> list[CheckResult]:
        message = "Elasticsearch 8.13.4: job claiming and the manage_connector privilege arrive"
        return [
            CheckResult("connection", "Connection and latency", "ok", "answered", None, 0.0, None),
            CheckResult("product", "Product and version", "ok", message, None, 0.0, None),
        ]

    items = await diagnose_silence(
        SilenceInputs(
            config_path=config,
            connector=connector(cid, "confluence"),
            connector_id=cid,
            target="docker",
            service_version="8.15.0",
        ),
        checks=checks,
    )
    version = {i.id: i for i in items}["version"]
    assert version.message == (
        "Elastic's service 8.15.0 refuses Elasticsearch 8.13.4: the cluster's minor version "
        "is older"
    )
    assert version.hint == "deploy release 8.13.4 (Docker tag 8.13.4, branch 8.13)"
