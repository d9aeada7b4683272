"""The failure log quotes document content (titles, paths, field values): it and the state
folders holding it are private to the user, whatever the umask (issue 12, item 7)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sluice.core.engine.failures import FailureLog, failure_log_path, read_failures
from sluice.core.engine.progress import Failure


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask():
    previous = os.umask(0o022)  # what most systems use: files 0644, folders 0755
    yield
    os.umask(previous)


def test_failure_log_is_0600_and_its_folders_0700(state_dir: Path):
    path = failure_log_path("job-1")
    log = FailureLog(path)
    log.record(Failure("doc-1", "index", "mapper_parsing_exception", name="/home/a/salary.xlsx"))
    log.close()

    assert [entry["id"] for entry in read_failures(path)] == ["doc-1"]
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700  # jobs/job-1
    assert mode(state_dir / "jobs") == 0o700
    assert mode(state_dir) == 0o700


def test_an_older_world_readable_log_and_state_folder_are_made_private(state_dir: Path):
    path = failure_log_path("job-2")
    path.parent.mkdir(parents=True, mode=0o755)
    os.chmod(state_dir, 0o755)
    path.write_text('{"id": "old"}\n')
    os.chmod(path, 0o644)

    log = FailureLog(path)
    log.record(Failure("doc-2", "index", "boom"))
    log.close()

    assert [entry["id"] for entry in read_failures(path)] == ["old", "doc-2"]
    assert mode(path) == 0o600
    assert mode(path.parent) == mode(state_dir / "jobs") == mode(state_dir) == 0o700
