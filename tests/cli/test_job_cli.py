"""`sluice job ...` against the cluster under test."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.connector_fixtures import ID_RE, cli_environment, json_out, one_line
from tests.conftest import ROOT

pytestmark = pytest.mark.es


@pytest.fixture
def cli_env(tmp_path, capsys):
    yield from cli_environment(tmp_path, capsys)


def test_start_list_show_cancel(cli_env):
    connector_id = cli_env.create("--set", "directory=/x")
    code, out, err = cli_env.run("job", "start", connector_id)
    assert code == 0, err
    full = out.strip()
    assert ID_RE.match(full) and one_line(out)
    code, out, err = cli_env.run("job", "start", connector_id, "--incremental")
    assert code == 0, err
    incremental = out.strip()

    code, out, err = cli_env.run("job", "list", connector_id)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["JOB", "TYPE", "TRIGGER", "STATUS"]
    assert lines[1].startswith(incremental) and lines[2].startswith(full)  # newest first
    listed = json_out(cli_env.run("job", "list", connector_id, "--json")[1])
    assert [(j["id"], j["job_type"], j["status"], j["trigger_method"]) for j in listed] == [
        (incremental, "incremental", "pending", "on_demand"),
        (full, "full", "pending", "on_demand"),
    ]
    only = json_out(cli_env.run("job", "list", connector_id, "--json", "--limit", "1")[1])
    assert [j["id"] for j in only] == [incremental]

    code, out, err = cli_env.run("job", "show", full)
    assert code == 0, err
    assert "status:" in out and "pending" in out and connector_id in out

    code, out, err = cli_env.run("job", "cancel", full)
    assert code == 0, err
    assert "canceled" in out
    shown = json_out(cli_env.run("job", "show", full, "--json")[1])
    assert shown["status"] == "canceled" and shown["cancelation_requested_at"]
    code, out, err = cli_env.run("job", "cancel", full)
    assert code == 1 and one_line(err) and "[canceled]" in err


def test_access_control_job_and_masked_snapshot(cli_env):
    result = cli_env.run_process(
        "connector",
        "create",
        "--service-type",
        "postgresql",
        "--name",
        "pg",
        "--index-name",
        cli_env.index_name(),
        "--set",
        "password=-",
        stdin="top-secret-value",
    )
    assert result.returncode == 0, result.stderr
    connector_id = cli_env.remember(result.stdout)
    code, out, err = cli_env.run("job", "start", connector_id, "--access-control")
    assert code == 0, err
    job = json_out(cli_env.run("job", "show", out.strip(), "--json")[1])
    assert job["job_type"] == "access_control"
    assert job["connector"]["index_name"].startswith(".search-acl-filter-search-sluice-test-")
    assert job["connector"]["configuration"]["password"]["value"] == "********"
    assert "top-secret" not in cli_env.run("job", "show", out.strip(), "--json")[1]


def test_errors(cli_env):
    code, _, err = cli_env.run("job", "start", "no-such-connector")
    assert code == 1 and one_line(err) and "no-such-connector" in err
    code, _, err = cli_env.run("job", "show", "no-such-job")
    assert code == 1 and one_line(err) and "no-such-job" in err
    code, _, err = cli_env.run("job", "cancel", "no-such-job")
    assert code == 1 and "no sync job with id 'no-such-job'" in err
    code, _, err = cli_env.run("job", "start", "x", "--full", "--incremental")
    assert code == 2 and "not allowed with argument" in err


def _job_with_failures(cli_env, state: Path, count: int) -> str:
    """A real job record, and a failure log of `count` entries where the engine keeps it."""
    connector_id = cli_env.create("--set", "directory=/x")
    job_id = cli_env.run("job", "start", connector_id)[1].strip()
    log = state / "jobs" / job_id / "failures.ndjson"
    log.parent.mkdir(parents=True)
    entry = {"time": "2026-03-14T09:26:53+00:00", "operation": "extract", "reason": "bad " * 20}
    log.write_text("".join(json.dumps({**entry, "id": f"doc-{n}"}) + "\n" for n in range(count)))
    return job_id


def test_failures_into_a_closed_pipe_stop_quietly(cli_env, tmp_path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("SLUICE_STATE_DIR", str(state))  # inherited by the subprocess
    job_id = _job_with_failures(cli_env, state, 3000)  # ~400 KB: more than a pipe holds
    command = [sys.executable, "-m", "sluice", "job", "failures", job_id, "--limit", "3000"]
    proc = subprocess.Popen(
        [*command, "-c", str(cli_env.config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"TIME")
    proc.stdout.close()  # the reader goes away, as `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, err  # 128 + SIGPIPE, like a Unix tool
    assert err == ""

    shell = f"{shlex.join(command)} -c {shlex.quote(str(cli_env.config))} | head -5"
    result = subprocess.run(shell, shell=True, capture_output=True, text=True, cwd=ROOT)
    assert len(result.stdout.splitlines()) == 5 and result.stderr == ""


def test_failures_output_into_a_missing_folder_is_one_line(cli_env, tmp_path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("SLUICE_STATE_DIR", str(state))
    job_id = _job_with_failures(cli_env, state, 2)
    target = tmp_path / "no-such-folder" / "failures.csv"
    code, out, err = cli_env.run("job", "failures", job_id, "--output", str(target))
    assert code == 1 and one_line(err) and out == ""
    assert err.startswith(f"sluice: error: --output {target}: cannot write it: No such file")
    assert "create the folder first" in err
    code, out, err = cli_env.run("job", "failures", job_id, "--output", str(tmp_path / "f.csv"))
    assert code == 0 and "2 failure(s) written" in err


def test_show_and_list_tell_two_instances_on_one_host_apart(cli_env):
    """Elastic's `worker_hostname` is the same for both; the instance (process id, id,
    start) recorded by the claim is what `job show` and `job list` tell apart."""
    from sluice.core.protocol import WorkerIdentity, open_store

    first = cli_env.create("--set", "directory=/x")
    second = cli_env.create("--set", "directory=/y")
    a = WorkerIdentity("shared-host", 1111, "aaaaaaaaaaaa", "2026-01-02T03:04:05.000Z")
    b = WorkerIdentity("shared-host", 2222, "bbbbbbbbbbbb", "2026-01-02T03:04:06.000Z")

    async def claim(client):
        store = await open_store(client)
        jobs = []
        for connector_id, worker in ((first, a), (second, b)):
            job_id = await store.create_job(connector_id)
            assert await store.claim_job(job_id, "shared-host", worker=worker)
            jobs.append(job_id)
        return jobs

    job_a, job_b = cli_env.es(claim)
    for job_id, pid, instance, started in (
        (job_a, 1111, "aaaaaaaaaaaa", "2026-01-02 03:04:05 UTC"),
        (job_b, 2222, "bbbbbbbbbbbb", "2026-01-02 03:04:06 UTC"),
    ):
        code, out, err = cli_env.run("job", "show", job_id)
        assert code == 0, err
        fields = dict(line.split(":", 1) for line in out.splitlines())
        assert fields["worker"].strip() == "shared-host"
        assert fields["instance"].strip() == f"pid {pid}, id {instance}, started {started}"
    code, out, err = cli_env.run("job", "list", first)
    assert code == 0, err
    assert "shared-host (pid 1111)" in out.splitlines()[1]
    listed = json_out(cli_env.run("job", "list", second, "--json")[1])
    assert listed[0]["worker_hostname"] == "shared-host"
    assert listed[0]["worker"]["pid"] == 2222
    assert listed[0]["worker"]["instance_id"] == "bbbbbbbbbbbb"


def test_show_tells_what_a_sync_went_on_despite(cli_env, tmp_path, monkeypatch):
    """A missing ingest pipeline: the sync completes without it, and `job show` says so."""
    from sluice.core.protocol import open_store

    monkeypatch.setenv("SLUICE_STATE_DIR", str(tmp_path / "state"))
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "a.txt").write_text("hello")
    connector_id = cli_env.create("--set", f"directory={folder}")

    async def no_pipeline(client):
        store = await open_store(client)
        await store.update_pipeline(connector_id, {"name": "sluice-test-no-pipeline"})

    cli_env.es(no_pipeline)
    code, out, err = cli_env.run("sync", connector_id, "--json")
    assert code == 0, out + err
    summary = json_out(out)
    job_id = summary["job_id"]
    assert [n.split(":")[0] for n in summary["notices"]] == [
        "ingest pipeline 'sluice-test-no-pipeline' doesn't exist on this cluster"
    ]
    code, out, err = cli_env.run("sync", connector_id)  # the text summary says it as well
    assert code == 0, out + err
    assert "note: ingest pipeline 'sluice-test-no-pipeline' doesn't exist" in out

    code, out, err = cli_env.run("job", "show", job_id)
    assert code == 0, err
    fields = dict(line.split(":", 1) for line in out.splitlines())
    assert fields["status"].strip() == "completed"
    notice = fields["notice"].strip()
    assert notice.startswith(
        "ingest pipeline 'sluice-test-no-pipeline' doesn't exist on this cluster: indexed "
        "without it"
    )
    shown = json_out(cli_env.run("job", "show", job_id, "--json")[1])
    assert shown["notices"] == [notice]
    assert shown["metadata"]["sluice"]["notices"] == shown["notices"]
