"""A job's failures, as the CLI (`sluice job failures`) and the TUI (the dashboard's list and
its export) read them: the log stays on the machine that ran the job, so a job run elsewhere
has none here — said as None, never as an error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sluice.core.engine.failures import export_failures, failure_log_path, read_failures


def local_failure_log(job_id: str) -> Path | None:
    """The job's failure log here, or None. An id that cannot be a folder name here (a path
    separator, `..`, longer than the file system allows) cannot have a log either — and must
    never reach outside the state folder."""
    if not job_id or "/" in job_id or "\\" in job_id or job_id in (".", ".."):
        return None
    path = failure_log_path(job_id)
    try:
        return path if path.is_file() else None
    except OSError:  # e.g. "File name too long"
        return None


def job_failures(job_id: str, limit: int | None = None) -> list[dict[str, Any]] | None:
    """The log's entries, oldest first (failures have an `id`; a `note` says some were not
    recorded); None when there is no log here."""
    path = local_failure_log(job_id)
    if path is None:
        return None
    return list(read_failures(path, limit=limit))


def export_job_failures(job_id: str, destination: Path) -> int | None:
    """Write the job's failures to `destination` (CSV by suffix, else NDJSON); how many, or
    None when there is no log here. OSError when `destination` can't be written."""
    path = local_failure_log(job_id)
    if path is None:
        return None
    return export_failures(path, destination)
