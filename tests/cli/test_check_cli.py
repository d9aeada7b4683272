"""`sluice check` as a user runs it (a subprocess): report, --json, and exit codes 0/1/2
against the local server, the fake secured Elasticsearch, stunnel TLS and bad configs."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sluice.core.checks import planned_checks
from tests.conftest import es_settings
from tests.servers.certs import sha256_fingerprint
from tests.servers.fixtures import *  # noqa: F403  (fake_es, tls_urls, test_certs...)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "cli-Secret-Passw0rd-9"


def sluice(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def write_config(path: Path, **elasticsearch) -> Path:
    lines = ["elasticsearch:"]
    for key, value in elasticsearch.items():
        lines.append(f"  {key}: {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def local_config(tmp_path):
    settings = {k: v for k, v in es_settings().items() if k != "max_retries"}
    return write_config(tmp_path / "config.yml", **settings)


@pytest.mark.es
def test_local_cluster_passes_with_a_readable_report(local_config):
    result = sluice("check", "-c", str(local_config), "--index", "search-sluice-cli")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Checking ")
    report = [line for line in lines if line.startswith("[")]
    assert len(report) == len(planned_checks())
    assert all(line[:6] in ("[ OK ]", "[WARN]", "[SKIP]") for line in report)
    assert any(line.startswith("[ OK ] Connection and latency") for line in report)
    assert any(line.startswith("[ OK ] Index name") for line in report)
    assert lines[-1].startswith("PASSED: ")


@pytest.mark.es
def test_invalid_index_name_exits_1(local_config):
    result = sluice("check", "-c", str(local_config), "--index", "Bad Name")
    assert result.returncode == 1
    assert "[FAIL] Index name" in result.stdout
    assert "fix: try 'search-bad-name'" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("FAILED: ")


@pytest.mark.es
def test_json_output(local_config):
    result = sluice(
        "check", "-c", str(local_config), "--json", "--pipeline", "no-such-pipe-x", "--index", "X"
    )
    assert result.returncode == 1  # the index name is invalid
    document = json.loads(result.stdout)
    assert document["exit_code"] == 1
    assert [r["id"] for r in document["results"]] == [i for i, _ in planned_checks()]
    pipeline = next(r for r in document["results"] if r["id"] == "pipeline")
    # Sluice syncs without a missing pipeline: a warning, not a failure
    assert pipeline["status"] == "warn" and pipeline["field"] == "pipeline"
    assert document["summary"]["fail"] == 1
    assert sum(document["summary"].values()) == len(planned_checks())


def test_rejected_password_exits_1_without_showing_it(fake_es, tmp_path):
    fake_es.add_user("elastic", "the-right-one-1", cluster={"all"}, indices=[(["*"], {"all"})])
    config = write_config(tmp_path / "c.yml", host=fake_es.url, username="elastic", password=SECRET)
    result = sluice("check", "-c", str(config))
    assert result.returncode == 1
    assert "[FAIL] Authentication" in result.stdout
    assert "fix (elasticsearch.password): fix elasticsearch.username" in result.stdout
    assert "[SKIP] Product and version" in result.stdout
    assert SECRET not in result.stdout + result.stderr


def test_secured_cluster_with_the_right_password_exits_0(fake_es, tmp_path):
    fake_es.add_user("elastic", SECRET, cluster={"all"}, indices=[(["*"], {"all"})])
    config = write_config(tmp_path / "c.yml", host=fake_es.url, username="elastic", password=SECRET)
    result = sluice("check", "-c", str(config), "--index", "search-cli-fake")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[ OK ] Privileges for the connector" in result.stdout
    assert "[ OK ] Authentication                authenticated as 'elastic'" in result.stdout


def test_tls_without_and_with_the_ca(tls_urls, test_certs, tmp_path):
    bare = write_config(tmp_path / "bare.yml", host=tls_urls["good"])
    result = sluice("check", "-c", str(bare))
    assert result.returncode == 1
    assert "[FAIL] TLS certificate" in result.stdout
    assert "fix (elasticsearch.ca_certs):" in result.stdout

    with_ca = write_config(tmp_path / "ca.yml", host=tls_urls["good"], ca_certs=str(test_certs.ca))
    result = sluice("check", "-c", str(with_ca))
    assert result.returncode == 0, result.stdout
    assert "[ OK ] TLS certificate" in result.stdout

    pinned = write_config(
        tmp_path / "pin.yml",
        host=tls_urls["good"],
        ca_fingerprint=sha256_fingerprint(test_certs.ca),
    )
    result = sluice("check", "-c", str(pinned))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pinned certificate CN=Sluice Test CA found in the chain" in result.stdout


def test_unreachable_cluster_exits_1(tmp_path):
    config = write_config(tmp_path / "c.yml", host="http://127.0.0.1:9")
    result = sluice("check", "-c", str(config))
    assert result.returncode == 1
    assert "[FAIL] Connection and latency" in result.stdout
    assert "[SKIP] Authentication                skipped: Connection and latency failed" in (
        result.stdout
    )


def test_missing_config_exits_2_with_one_line(tmp_path):
    result = sluice("check", "-c", str(tmp_path / "nope.yml"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"sluice check: {tmp_path / 'nope.yml'}: config file not found")
    assert result.stdout == ""


def test_config_errors_answer_json_and_warnings_use_the_common_wording(tmp_path):
    result = sluice("check", "-c", str(tmp_path / "nope.yml"), "--json")
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 2 and "config file not found" in error["message"]

    config = tmp_path / "typo.yml"
    config.write_text("service:\n  idlling: 3\nelasticsearch:\n  host: http://127.0.0.1:9\n")
    result = sluice("check", "-c", str(config), "--json")
    assert result.returncode == 1 and json.loads(result.stdout)["exit_code"] == 1
    assert result.stderr.splitlines() == [
        f"sluice: warning: {config}:2:3: unknown key `service.idlling` — did you mean "
        "`service.idling`?"
    ]


def test_check_warns_about_a_key_sluice_does_not_use(tmp_path):
    config = tmp_path / "unused.yml"
    config.write_text("elasticsearch:\n  host: http://127.0.0.1:9\nservice.max_errors: 50\n")
    result = sluice("check", "-c", str(config), "--json")
    assert result.returncode == 1 and json.loads(result.stdout)["exit_code"] == 1
    assert result.stderr.splitlines() == [
        f"sluice: warning: {config}:3:1: service.max_errors: is not used by Sluice (`sluice "
        "run` retries every service.idling seconds without a limit) — remove it, or keep it "
        "for Elastic's service, which reads it"
    ]


def test_invalid_config_exits_2_with_a_line_per_problem(tmp_path):
    config = tmp_path / "bad.yml"
    config.write_text(
        "elasticsearch:\n  host: http://127.0.0.1:9200\n  request_timeout: soon\n"
        "  max_retries: -1\n"
    )
    result = sluice("check", "-c", str(config))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert "elasticsearch.request_timeout" in lines[0]
    assert "elasticsearch.max_retries" in lines[1]
    assert all(line.startswith(f"sluice check: {config}:") for line in lines)


def test_unusable_arguments_exit_2(tmp_path):
    config = write_config(tmp_path / "c.yml", host="http://127.0.0.1:9")
    assert sluice("check", "-c", str(config), "--timeout", "0").returncode == 2
    result = sluice("check", "--no-such-flag")
    assert result.returncode == 2
    assert "unrecognized arguments: --no-such-flag" in result.stderr


def test_top_level_config_option_is_honoured(tmp_path):
    config = write_config(tmp_path / "top.yml", host="http://127.0.0.1:9")
    result = sluice("-c", str(config), "check")
    assert result.returncode == 1
    assert f"(config {config})" in result.stdout


@pytest.mark.es
@pytest.mark.parametrize("command", [("check",), ("connector", "list")], ids=" ".join)
def test_plaintext_secret_readable_by_others_is_warned_about(command, tmp_path):
    """Issue 12, item 7: a hand-written config.yml keeps the umask's 0644."""
    settings = {k: v for k, v in es_settings().items() if k not in ("username", "password")}
    config = write_config(tmp_path / "config.yml", **settings, api_key=SECRET)
    os.chmod(config, 0o644)
    result = sluice(*command, "-c", str(config))
    assert result.returncode == 0, result.stderr
    warning = (
        f"sluice: warning: {config}: holds a secret in plain text (elasticsearch.api_key) and "
        f"is readable by others (mode 0644) — chmod 600 {config}, or move the secret to the "
        "keyring or a ${VAR}"
    )
    assert warning in result.stderr.splitlines()
    assert SECRET not in result.stdout + result.stderr

    os.chmod(config, 0o600)
    result = sluice(*command, "-c", str(config))
    assert result.returncode == 0, result.stderr
    assert "plain text" not in result.stderr


# ------------------------------------------------------------------ what Elastic's service reads


@pytest.mark.es
def test_flag_left_true_on_a_cluster_without_the_connector_api_is_a_warning(tmp_path):
    from sluice.core.checks.cluster import detect_connector_api

    settings = {k: v for k, v in es_settings().items() if k != "max_retries"}
    if asyncio.run(detect_connector_api(settings)):
        pytest.skip("this cluster has the Connector API")
    result = sluice("check", "-c", str(write_config(tmp_path / "c.yml", **settings)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARN] Connector API                 elasticsearch.feature_use_connectors_api is " in (
        result.stdout
    )
    assert "Elastic's service would fail at check-in" in result.stdout
    assert (
        "fix (elasticsearch.feature_use_connectors_api): set "
        "elasticsearch.feature_use_connectors_api: false in config.yml"
    ) in result.stdout

    fixed = write_config(tmp_path / "f.yml", **settings, feature_use_connectors_api=False)
    result = sluice("check", "-c", str(fixed))
    assert "[ OK ] Connector API" in result.stdout


def test_keys_elastics_service_does_not_read_are_warned_about(tls_urls, test_certs, tmp_path):
    config = write_config(
        tmp_path / "pin.yml",
        host=tls_urls["good"],
        ca_fingerprint=sha256_fingerprint(test_certs.ca),
        bearer_auth="b3arer-t0ken-xyz",
    )
    result = sluice("check", "-c", str(config), "--timeout", "5")
    warnings = [line for line in result.stderr.splitlines() if "Elastic's service" in line]
    assert warnings[0].startswith(
        f"sluice: warning: {config}:3:3: elasticsearch.ca_fingerprint: Elastic's service does "
        "not read this key: it would verify the cluster's certificate against its default"
    )
    assert "set elasticsearch.ca_certs" in warnings[0]
    assert warnings[1].startswith(
        f"sluice: warning: {config}:4:3: elasticsearch.bearer_auth: Elastic's service does not "
        "read this key: it would log in as elastic/changeme"
    )
    assert "set elasticsearch.api_key" in warnings[1]
    assert "b3arer-t0ken-xyz" not in result.stdout + result.stderr
