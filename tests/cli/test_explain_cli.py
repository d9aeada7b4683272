"""`sluice explain ID` against the cluster under test: stuck states made for real, explained
in words (80 columns, numbered findings with their fixes) and as JSON; exit codes."""

from __future__ import annotations

import re
import socket
import subprocess

import pytest
import yaml

from sluice.cli.commands.explain import render
from sluice.core.invocation import sluice_command
from sluice.core.protocol import WorkerIdentity, open_store
from sluice.core.protocol.timeutil import iso_now
from sluice.core.workflows.explain import Explanation, Finding
from tests.cli.connector_fixtures import ORIGIN, cli_environment, json_out, one_line

pytestmark = pytest.mark.es

SLUICE = sluice_command()


@pytest.fixture
def cli_env(tmp_path, capsys):
    yield from cli_environment(tmp_path, capsys)


def list_in_config(cli_env, connector_id: str, service_type: str) -> None:
    """config.yml names the connector, as the service's file would."""
    data = yaml.safe_load(cli_env.config.read_text())
    data["connectors"] = [{"connector_id": connector_id, "service_type": service_type}]
    cli_env.config.write_text(yaml.safe_dump(data, sort_keys=False))


def fits(out: str) -> None:
    """Every line fits 80 columns, unless it is one command that cannot be split."""
    for line in out.splitlines():
        if len(line) > 80:
            assert re.fullmatch(r"`[^`]+`[;,.)]*", line.strip()), line


def test_a_pending_job_with_no_service(cli_env):
    connector_id = cli_env.create("--set", "directory=/x")
    job_id = cli_env.run("job", "start", connector_id)[1].strip()

    code, out, err = cli_env.run("explain", job_id)
    assert code == 0, err  # explained: stuck is the answer, not a failure
    lines = out.splitlines()
    assert re.fullmatch(rf"job {job_id} pending for \d+ s; no service has claimed it", lines[0])
    # the test's config.yml lists no connector: that is the first cause
    assert lines[1:5] == [
        "",
        "1. config.yml does not let the service run this connector (certain)",
        "   config.yml lists no connector: Elastic's service refuses to start",
        lines[4],
    ]
    assert lines[4].startswith(f"   fix: add `- connector_id: {connector_id}` with")
    numbered = [line for line in lines if re.match(r"\d+\. ", line)]
    assert numbered[1] == f"2. No service runs connector {connector_id} (likely)"
    assert f"`{SLUICE} deploy {connector_id}`" in " ".join(out.split())
    fits(out)

    document = json_out(cli_env.run("explain", job_id, "--json")[1])
    assert document["target_kind"] == "job" and document["job_id"] == job_id
    assert document["connector_id"] == connector_id and document["healthy"] is False
    assert [f["cause"] for f in document["findings"]] == ["not_in_config", "no_service"]
    assert set(document["findings"][0]) == {
        "cause",
        "title",
        "detail",
        "fix",
        "likelihood",
        "job_id",
    }


def test_config_yml_with_another_service_type(cli_env):
    connector_id = cli_env.create("--set", "directory=/x")
    list_in_config(cli_env, connector_id, "mysql")
    document = json_out(cli_env.run("explain", connector_id, "--json")[1])
    assert document["target_kind"] == "connector"
    first = document["findings"][0]
    assert first["cause"] == "service_type_mismatch"
    assert "'mysql'" in first["detail"] and "'dir'" in first["detail"]
    assert "service_type: dir" in first["fix"]


def test_a_job_whose_worker_on_this_machine_died(cli_env):
    """Claimed by a Sluice process of this host that is gone: `sluice run` here resumes it."""
    connector_id = cli_env.create("--set", "directory=/x")
    list_in_config(cli_env, connector_id, "dir")
    child = subprocess.Popen(["true"])
    child.wait()
    here = socket.gethostname()
    worker = WorkerIdentity(here, child.pid, "deadbeef0000", iso_now(), ticks=1)

    async def claim(client):
        store = await open_store(client)
        job_id = await store.create_job(connector_id)
        assert await store.claim_job(job_id, here, worker=worker)
        return job_id

    job_id = cli_env.es(claim)
    code, out, err = cli_env.run("explain", job_id)
    assert code == 0, err
    assert out.startswith(f"job {job_id} in progress, last heartbeat ")
    numbered = [line for line in out.splitlines() if re.match(r"\d+\. ", line)]
    assert numbered[0] == f"1. Job {job_id}'s worker on this machine is gone (certain)"
    flat = " ".join(out.split())
    assert f"Sluice pid {child.pid} on {here} (this machine)" in flat
    assert f"fix: run `{SLUICE} run -c {cli_env.config}` here" in flat
    assert f"resumes job {job_id} at once" in flat
    fits(out)


def test_a_connector_locked_by_a_job_that_no_longer_exists(cli_env):
    connector_id = cli_env.create("--set", "directory=/x")

    async def lock(client):
        await client.options(headers=ORIGIN).update(
            index=".elastic-connectors",
            id=connector_id,
            doc={"last_sync_status": "in_progress"},
            refresh=True,
        )

    cli_env.es(lock)
    document = json_out(cli_env.run("explain", connector_id, "--json")[1])
    first = document["findings"][0]
    assert (first["cause"], first["likelihood"]) == ("orphan_lock", "certain")
    assert f"connector {connector_id} has last_sync_status: in_progress" in first["detail"]


def test_a_healthy_connector_says_nothing_is_stuck(cli_env):
    connector_id = cli_env.create("--set", "directory=/x")

    async def check_in(client):
        await (await open_store(client)).check_in(connector_id)

    cli_env.es(check_in)
    code, out, err = cli_env.run("explain", connector_id)
    assert code == 0, err
    assert out.startswith(f"nothing is stuck: connector {connector_id} (dir, status ")
    assert "1. No schedule is enabled for connector" in " ".join(out.split())
    assert json_out(cli_env.run("explain", connector_id, "--json")[1])["healthy"] is True


def test_an_unknown_id(cli_env):
    code, out, err = cli_env.run("explain", "no-such-thing")
    assert code == 1 and out == "" and one_line(err)
    assert "no connector or sync job with id 'no-such-thing' in the cluster at http" in err
    assert f"`{SLUICE} connector list`" in err
    code, out, err = cli_env.run("explain", "no-such-thing", "--json")
    assert code == 1
    assert json_out(out)["error"]["exit_code"] == 1
    assert "'no-such-thing'" in json_out(out)["error"]["message"]


def test_bad_arguments(cli_env):
    code, _, err = cli_env.run("explain")
    assert code == 2 and "ID" in err
    code, _, err = cli_env.run("explain", "x", "--docker", "--sluice")
    assert code == 2 and "not allowed with argument" in err


def test_render_keeps_commands_whole_at_80_columns():
    command = "`sluice connector schedule abcdefghij0123456789 --full '0 0 * * * ?'`"
    result = Explanation(
        "connector",
        "abcdefghij0123456789",
        "abcdefghij0123456789",
        "connector abcdefghij0123456789 (dir, status connected): last check-in 1 min ago",
        (Finding("invalid_schedule", "A title", "word " * 30, f"set one: {command}", "certain"),),
    )
    out = render(result)
    assert command in out.splitlines()[-1]  # whole, on its own line
    assert out.splitlines()[2] == "1. A title (certain)"
    fits(out)
    assert max(len(line) for line in out.splitlines()) <= 80
