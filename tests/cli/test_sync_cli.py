"""`sluice sync`: one foreground job on the real server, recorded like any other."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.connector_fixtures import CliEnv, cli_environment
from tests.data import documents

pytestmark = pytest.mark.es


@pytest.fixture
def cli_env(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> Iterator[CliEnv]:
    monkeypatch.setenv("SLUICE_STATE_DIR", str(tmp_path / "state"))
    yield from cli_environment(tmp_path, capsys)


def folder_with(tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(count):
        (folder / f"file-{n}.txt").write_text(f"contents of file {n}\n")
    return folder


def count_docs(env: CliEnv, index: str) -> int:
    async def count(client: Any) -> int:
        await client.indices.refresh(index=index)
        return (await client.count(index=index))["count"]

    return env.es(count)


def test_sync_json_summary_and_job_record(cli_env, tmp_path):
    folder = folder_with(tmp_path, 25)
    connector_id = cli_env.create("--set", f"directory={folder}")
    index = cli_env.indices[-1]

    code, out, err = cli_env.run("sync", connector_id, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["status"] == "completed"
    assert summary["indexed"] == 25 and summary["failed"] == 0
    assert summary["failure_log"] is None  # a clean job leaves no failure log
    assert summary["docs_per_second"] > 0 and summary["peak_rss_mib"] > 10
    assert count_docs(cli_env, index) == 25

    code, out, err = cli_env.run("job", "show", summary["job_id"], "--json")
    assert code == 0, err
    job = json.loads(out)
    assert job["status"] == "completed"
    assert job["indexed_document_count"] == 25

    doc = cli_env.connector_doc(connector_id)
    assert doc["last_sync_status"] == "completed"
    assert doc["last_indexed_document_count"] == 25

    # the source changed: incremental picks up only the change, full converges
    (folder / "file-0.txt").unlink()
    (folder / "new.txt").write_text("new file\n")
    code, out, err = cli_env.run("sync", connector_id, "--incremental", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["indexed"], summary["deleted"], summary["unchanged"]) == (1, 1, 24)
    assert count_docs(cli_env, index) == 25


def test_sync_text_summary_and_failure_exit_code(cli_env, tmp_path):
    connector_id = cli_env.create("--set", f"directory={tmp_path / 'missing'}")
    code, out, _err = cli_env.run("sync", connector_id)
    assert code == 1
    assert "error" in out and "missing" in out


def test_sync_unknown_connector_is_one_line(cli_env):
    code, _out, err = cli_env.run("sync", "no-such-connector-xyz")
    assert code == 1
    assert "no-such-connector-xyz" in err and len(err.strip().splitlines()) == 1


def test_sync_takes_ids_that_start_with_a_dash(cli_env):
    code, _out, err = cli_env.run("sync", "-Xk3abcdefghijklmnop")  # 20 chars, like ES ids
    assert code == 1, err  # not a usage error: the id was read, and does not exist
    assert "-Xk3abcdefghijklmnop" in err


def test_failures_of_a_job_are_listed_and_exported(cli_env, tmp_path):
    folder = folder_with(tmp_path, 3)
    documents.make_corrupt_pdf(folder / "broken.pdf")
    connector_id = cli_env.create("--set", f"directory={folder}")
    code, out, err = cli_env.run("sync", connector_id, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["failed"] == 1 and summary["failure_log"]

    code, out, err = cli_env.run("job", "failures", summary["job_id"], "--json")
    assert code == 0, err
    (entry,) = json.loads(out)
    assert entry["operation"] == "extract" and "broken.pdf" in entry["reason"]

    code, out, err = cli_env.run("job", "failures", summary["job_id"])
    assert code == 0 and str(folder / "broken.pdf") in out and "extract" in out  # by its path

    exported = tmp_path / "failures.csv"
    code, _out, err = cli_env.run("job", "failures", summary["job_id"], "--output", str(exported))
    assert code == 0 and "1 failure(s) written" in err
    rows = list(csv.reader(exported.open()))
    assert rows[0] == ["time", "id", "name", "operation", "reason"] and len(rows) == 2
    assert rows[1][2] == str(folder / "broken.pdf")

    code, _out, err = cli_env.run("job", "failures", "no-such-job")
    assert code == 1 and "no sync job with id 'no-such-job'" in err


def _interrupted_job(env: CliEnv, connector_id: str, *, silent: bool = False) -> str:
    """A job another worker took and left: `suspended`, or (silent) `in_progress` with a
    heartbeat long past."""
    from sluice.core.protocol import JOBS_ALIAS, JobType, TriggerMethod, open_store

    async def make(client: Any) -> str:
        store = await open_store(client)
        job_id = await store.create_job(connector_id, JobType.FULL, TriggerMethod.ON_DEMAND)
        assert await store.claim_job(job_id, "a-host-that-went-away")
        if silent:
            await client.update(
                index=JOBS_ALIAS,
                id=job_id,
                doc={"last_seen": "2020-01-01T00:00:00+00:00"},
                refresh=True,
            )
        else:
            await store.suspend_job(job_id)
        return job_id

    return env.es(make)


def _jobs(env: CliEnv, connector_id: str) -> list[dict[str, Any]]:
    code, out, err = env.run("job", "list", connector_id, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("silent", [False, True], ids=["suspended", "silent-in-progress"])
def test_sync_resumes_the_interrupted_job(cli_env, tmp_path, silent):
    folder = folder_with(tmp_path, 30)
    connector_id = cli_env.create("--set", f"directory={folder}")
    job_id = _interrupted_job(cli_env, connector_id, silent=silent)

    code, out, err = cli_env.run("sync", connector_id, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["job_id"] == job_id and summary["status"] == "completed"
    was = "in_progress" if silent else "suspended"
    assert f"resuming the {was} full job {job_id}" in err
    jobs = _jobs(cli_env, connector_id)
    assert [(j["id"], j["status"]) for j in jobs] == [(job_id, "completed")]
    assert count_docs(cli_env, cli_env.indices[-1]) == 30


def test_sync_new_cancels_the_suspended_job(cli_env, tmp_path):
    folder = folder_with(tmp_path, 5)
    connector_id = cli_env.create("--set", f"directory={folder}")
    old = _interrupted_job(cli_env, connector_id)

    code, out, err = cli_env.run("sync", connector_id, "--new", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["job_id"] != old and summary["status"] == "completed"
    assert f"canceled the suspended job {old}" in err
    statuses = {j["id"]: j["status"] for j in _jobs(cli_env, connector_id)}
    assert statuses == {old: "canceled", summary["job_id"]: "completed"}


def test_the_progress_line_shows_a_stall_and_the_deletion_first():
    import time

    from sluice.cli.commands.sync import progress_line
    from sluice.core.engine.progress import Counters, Phase, ProgressSnapshot, Stalled

    snap = ProgressSnapshot(
        Phase.DELETING,
        Counters(extracted=10, deleted=400),
        65.0,
        12.0,
        stale_total=1000,
        stale_done=400,
        phase_rate=100.0,
        stalled=Stalled(time.time() - 40, 3, 5, "request timed out"),
    )
    line = progress_line(snap)
    assert line.startswith("Elasticsearch not answering for 40 s — retry 3 of 5")
    assert "deleted 400 of 1000 stale, ETA 6 s" in line


def test_progress_line_says_why_the_source_waits():
    from sluice.cli.commands.sync import progress_line
    from sluice.core.engine.progress import Counters, Phase, ProgressSnapshot, SourceWaiting

    now = time.time()
    snap = ProgressSnapshot(
        Phase.EXTRACTING,
        Counters(extracted=10, indexed=10),
        5.0,
        2.0,
        waiting=SourceWaiting(now - 5, now + 30, "throttled by Microsoft (HTTP 429)"),
    )
    line = progress_line(snap)
    assert line.startswith("throttled by Microsoft (HTTP 429), resuming in 30 s | extracting")


def test_the_deletion_guard_stops_a_sync_until_the_flag_confirms(cli_env, tmp_path):
    folder = folder_with(tmp_path, 50)
    connector_id = cli_env.create(
        "--set", f"directory={folder}", "--set", "sluice_deletion_guard_min_docs=10"
    )
    index = cli_env.indices[-1]
    assert cli_env.run("sync", connector_id)[0] == 0
    for n in range(30):
        (folder / f"file-{n}.txt").unlink()

    code, out, err = cli_env.run("sync", connector_id, "--json")

    summary = json.loads(out)
    assert code == 1 and summary["status"] == "error"
    assert summary["deletion_guard"]["would_delete"] == 30
    assert "would delete 30 of the index's 50 documents (60 %)" in summary["error"]
    assert count_docs(cli_env, index) == 50
    code, out, err = cli_env.run("sync", connector_id)
    assert code == 1 and "--confirm-deletions" in out

    code, out, err = cli_env.run("sync", connector_id, "--confirm-deletions", "ten")
    assert code == 2 and "'ten' is not a number of documents" in err

    code, out, err = cli_env.run("sync", connector_id, "--confirm-deletions", "--json")
    assert code == 0, out + err
    assert json.loads(out)["deleted"] == 30
    assert count_docs(cli_env, index) == 20


def test_every_sync_reconciles_the_index_and_job_show_says_so(cli_env, tmp_path):
    folder = folder_with(tmp_path, 12)
    connector_id = cli_env.create("--set", f"directory={folder}")

    code, out, err = cli_env.run("sync", connector_id)
    assert code == 0, err
    assert "index check: source 12 · index 12 ✔" in out

    code, out, err = cli_env.run("sync", connector_id, "--json")
    summary = json.loads(out)
    assert summary["reconciliation"]["matches"] is True
    assert summary["reconciliation"]["indexed"] == 12
    code, out, err = cli_env.run("job", "show", summary["job_id"])
    assert code == 0 and "reconciliation:" in out and "source 12 · index 12 ✔" in out
    code, out, err = cli_env.run("job", "show", summary["job_id"], "--json")
    assert json.loads(out)["reconciliation"]["expected"] == 12


def test_dry_run_previews_without_writing_or_recording_a_job(cli_env, tmp_path):
    folder = folder_with(tmp_path, 30)
    connector_id = cli_env.create("--set", f"directory={folder}")
    index = cli_env.indices[-1]

    code, out, err = cli_env.run("sync", connector_id, "--dry-run", "--sample", "10", "--json")

    assert code == 0, err
    report = json.loads(out)
    assert report["dry_run"] is True and report["read"] == 10 and report["new"] == 10
    assert report["complete"] is False and report["deleted"] is None
    assert {f["path"] for f in report["fields"]} >= {"body", "name", "size"}
    assert count_docs(cli_env, index) == 0
    code, out, err = cli_env.run("job", "list", connector_id, "--json")
    assert json.loads(out) == []

    code, out, err = cli_env.run("sync", connector_id, "--dry-run", "--all")
    assert code == 0, err
    assert "would write    30 (30 new, 0 updated)" in out
    assert "would delete   0" in out and "nothing written, no job recorded" in out

    code, out, err = cli_env.run("sync", connector_id, "--sample", "5")
    assert code == 2 and "--sample and --all go with --dry-run" in err
