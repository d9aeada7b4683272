"""A job's failures, as the CLI (`sluice job failures`) and the TUI (the dashboard's list and
its export) read them: the log stays on the machine that ran the job, so a job run elsewhere
has none here — said as None, never as an error."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sluice.core.engine.failures import export_failures, failure_log_path, read_failures
from sluice.core.engine.progress import Failure


@dataclass(frozen=True)
class FailureRow:
    """One failed document as a list shows it."""

    time: str
    doc_id: str
    operation: str
    reason: str
    name: str = ""  # a path or a title, when the source gave one

    @property
    def document(self) -> str:
        """What to show a person: the name, else the id."""
        return self.name or self.doc_id


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


def failure_rows(job_id: str, limit: int = 200) -> list[FailureRow]:
    """The job's failure log here as rows, oldest first (a note that some were not recorded
    is a row too); empty when there is no log here."""
    rows = []
    for entry in job_failures(job_id, limit=limit) or []:
        if "id" in entry:
            rows.append(
                FailureRow(
                    str(entry.get("time", "")),
                    str(entry["id"]),
                    str(entry.get("operation", "")),
                    str(entry.get("reason", "")),
                    str(entry.get("name") or ""),
                )
            )
        elif "note" in entry:
            rows.append(FailureRow("", "…", "", str(entry["note"])))
    return rows


def rows_of(failures: Iterable[Failure], limit: int = 200) -> list[FailureRow]:
    """The engine's in-memory failures (a sync run here) as rows, the last `limit`."""
    rows = [
        FailureRow(
            time.strftime("%H:%M:%S", time.localtime(f.at)),
            f.doc_id,
            f.operation,
            f.reason,
            f.name or "",
        )
        for f in failures
    ]
    return rows[-limit:]
