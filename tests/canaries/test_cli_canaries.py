"""Every CLI command, in text and --json, and `sluice run` logs in both formats at DEBUG,
over a config holding canary credentials and a PostgreSQL connector whose password is a
canary: no canary on stdout, stderr, logs, failure logs or crash reports; in the records
only where Elastic's protocol keeps a source's configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.canaries.conftest import (
    ES_API_KEY,
    SOURCE_PASSWORD,
    leaking_files,
    leaks,
    paths_holding,
)
from tests.cli.connector_fixtures import CliEnv, cli_environment
from tests.conftest import ROOT

pytestmark = pytest.mark.es


@pytest.fixture
def cli_env(tmp_path, capsys, state_dir):
    env_iter = cli_environment(tmp_path, capsys)
    env: CliEnv = next(env_iter)
    if not (env.settings.get("api_key") or env.settings.get("username")):
        # an unsecured cluster ignores credentials: send the canary key with every request
        data = yaml.safe_load(env.config.read_text())
        data["elasticsearch"]["api_key"] = ES_API_KEY
        env.config.write_text(yaml.safe_dump(data, allow_unicode=True))
    yield env
    yield from env_iter


def run(env: CliEnv, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    result = env.run_process(*args, stdin=stdin)
    found = leaks(result.stdout + result.stderr)
    assert not found, f"`sluice {' '.join(args)}` printed a secret: {found}"
    assert "Traceback" not in result.stderr, result.stderr
    return result


def create_pg_connector(env: CliEnv, name: str, pg_url: str) -> subprocess.CompletedProcess[str]:
    """A PostgreSQL connector whose password (the canary, wrong for the server) is typed on
    stdin, as `--set password=-` asks."""
    pg = urlsplit(pg_url)
    return run(
        env,
        *("connector", "create", "--service-type", "postgresql", "--name", name),
        *("--index-name", env.index_name()),
        *("--set", f"host={pg.hostname}", "--set", f"port={pg.port}"),
        *("--set", f"username={pg.username}", "--set", "password=-"),
        *("--set", f"database={pg.path.lstrip('/')}"),
        stdin=SOURCE_PASSWORD + "\n",
    )


def test_no_cli_command_prints_a_secret(cli_env, tmp_path, state_dir, pg_url):
    created = create_pg_connector(cli_env, "canary pg", pg_url)
    assert created.returncode == 0, created.stderr
    connector_id = cli_env.remember(created.stdout)
    # the password reached the record (Kibana keeps it there too), and nothing else did
    doc = cli_env.connector_doc(connector_id)
    assert paths_holding(doc, SOURCE_PASSWORD) == ["configuration.password.value"]
    assert not paths_holding(doc, ES_API_KEY)

    for args in (
        ("connector", "list"),
        ("connector", "list", "--json"),
        ("connector", "show", connector_id),
        ("connector", "show", connector_id, "--json"),
        ("connector", "configure", connector_id, "--set", "fetch_size=50"),
        ("index", "list"),
        ("index", "list", "--json"),
        ("check",),
        ("check", "--json"),
        ("job", "list", connector_id),
    ):
        run(cli_env, *args)

    # the password is wrong for the server: the failure must say so without the password
    synced = run(cli_env, "sync", connector_id, "--json")
    assert synced.returncode == 1
    summary = json.loads(synced.stdout)
    job_id = summary["job_id"]
    for args in (
        ("job", "list", connector_id, "--json"),
        ("job", "show", job_id),
        ("job", "show", job_id, "--json"),
        ("job", "failures", job_id),
        ("job", "failures", job_id, "--json"),
    ):
        run(cli_env, *args)
    # the job document copies the connector's configuration (as Elastic's does): only there
    job_doc = cli_env.es(
        lambda client: client.options(headers={"X-elastic-product-origin": "connectors"}).get(
            index=".elastic-connectors-sync-jobs", id=job_id
        )
    )["_source"]
    assert paths_holding(job_doc, SOURCE_PASSWORD) == ["connector.configuration.password.value"]
    assert not paths_holding(job_doc, ES_API_KEY)
    assert not leaks(json.dumps(job_doc.get("error")))
    assert not leaking_files(state_dir)


@pytest.mark.parametrize("log_format", ["plain", "ecs"])
def test_service_logs_hold_no_secret(cli_env, tmp_path, state_dir, pg_url, log_format):
    created = create_pg_connector(cli_env, "canary service", pg_url)
    connector_id = cli_env.remember(created.stdout)
    data = yaml.safe_load(cli_env.config.read_text())
    data["connectors"] = [{"connector_id": connector_id, "service_type": "postgresql"}]
    data["service"] = {"idling": 1, "heartbeat": 2}
    cli_env.config.write_text(yaml.safe_dump(data, allow_unicode=True))
    queued = run(cli_env, "job", "start", connector_id)
    assert queued.returncode == 0, queued.stderr

    log = tmp_path / f"service-{log_format}.log"
    with open(log, "wb") as handle:
        service = subprocess.Popen(
            [
                *(sys.executable, "-m", "cli", "run", "-c", str(cli_env.config)),
                *("--skip-checks", "--log-level", "DEBUG", "--log-format", log_format),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=os.environ.copy(),
        )
        try:
            deadline = time.monotonic() + 30
            # the validation fails (wrong password) and the queued job runs and fails
            while time.monotonic() < deadline:
                text = log.read_text(encoding="utf-8", errors="replace")
                if "rejected the password" in text and "): error in" in text:
                    break
                time.sleep(0.3)
        finally:
            service.terminate()
            service.wait(timeout=30)
    text = Path(log).read_text(encoding="utf-8", errors="replace")
    assert "rejected the password" in text and "): error in" in text, text[-2000:]
    assert "DEBUG" in text or '"debug"' in text.lower()  # the noisiest level was on
    assert not leaks(text), f"the service log ({log_format}) holds a secret"
    assert not leaking_files(state_dir)


def test_the_detector_finds_escaped_canaries():
    """The suite is only as good as `leaks`: it must see a canary however it is printed."""
    assert leaks(f"password={SOURCE_PASSWORD!r}") == [SOURCE_PASSWORD]
    assert leaks(json.dumps({"p": SOURCE_PASSWORD})) == [SOURCE_PASSWORD]
    assert leaks(SOURCE_PASSWORD.encode("unicode_escape").decode()) == [SOURCE_PASSWORD]
    assert leaks("nothing here") == []
