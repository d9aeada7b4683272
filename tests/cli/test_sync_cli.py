"""`sluice sync`: one foreground job on the real server, recorded like any other."""

from __future__ import annotations

import csv
import json
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
    assert (summary["indexed"], summary["deleted"], summary["skipped"]) == (1, 1, 24)
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
    assert code == 0 and "broken.pdf" in out and "extract" in out

    exported = tmp_path / "failures.csv"
    code, _out, err = cli_env.run("job", "failures", summary["job_id"], "--output", str(exported))
    assert code == 0 and "1 failure(s) written" in err
    rows = list(csv.reader(exported.open()))
    assert rows[0] == ["time", "id", "operation", "reason"] and len(rows) == 2

    code, _out, err = cli_env.run("job", "failures", "no-such-job")
    assert code == 0 and "no failure log" in err
