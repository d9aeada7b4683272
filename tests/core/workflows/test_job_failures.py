"""A job's failures, read and exported the same way by the CLI and the TUI: the log of a job
run here, None for one run elsewhere — and never a file outside the state folder, whatever
the job id says."""

from __future__ import annotations

import csv
import json

from sluice.core.workflows import export_job_failures, job_failures, local_failure_log
from sluice.core.workflows.job_failures import failure_rows

ENTRY = {"time": "2026-03-14T09:26:53+00:00", "operation": "extract", "reason": "unreadable"}


def _log(folder, count: int) -> None:
    folder.mkdir(parents=True)
    lines = [json.dumps({**ENTRY, "id": f"doc-{n}", "name": f"/srv/{n}.pdf"}) for n in range(count)]
    (folder / "failures.ndjson").write_text("\n".join(lines) + "\n")


def test_a_job_run_here_reads_and_exports(tmp_path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("SLUICE_STATE_DIR", str(state))
    _log(state / "jobs" / "job-1", 3)
    assert [e["id"] for e in job_failures("job-1") or []] == ["doc-0", "doc-1", "doc-2"]
    target = tmp_path / "out.csv"
    assert export_job_failures("job-1", target) == 3
    rows = list(csv.reader(target.open()))
    assert rows[0] == ["time", "id", "name", "operation", "reason"] and len(rows) == 4
    # the TUI's rows come from the same reader
    row = failure_rows("job-1")[0]
    assert (row.doc_id, row.operation, row.reason) == ("doc-0", "extract", "unreadable")
    assert row.document == "/srv/0.pdf"


def test_a_job_run_elsewhere_has_none_here(tmp_path, monkeypatch):
    monkeypatch.setenv("SLUICE_STATE_DIR", str(tmp_path / "state"))
    assert job_failures("job-2") is None
    assert export_job_failures("job-2", tmp_path / "out.csv") is None
    assert not (tmp_path / "out.csv").exists()


def test_an_id_never_reaches_outside_the_state_folder(tmp_path, monkeypatch):
    """The TUI's export followed `../x` out of the jobs folder; the CLI's did not."""
    state = tmp_path / "state"
    monkeypatch.setenv("SLUICE_STATE_DIR", str(state))
    _log(state / "elsewhere", 2)  # what jobs/../elsewhere/failures.ndjson names
    for job_id in ("../elsewhere", "..", "a/b", "", "x" * 5000):
        assert local_failure_log(job_id) is None
        assert export_job_failures(job_id, tmp_path / "out.csv") is None
    assert not (tmp_path / "out.csv").exists()
