"""The per-job failure log: one NDJSON line per document that could not be synced.

Bounded (the first `max_entries` are kept, later ones only counted) so a sync where every
document fails cannot fill the disk. Users read it in the dashboard or export it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from sluice.core.engine.progress import Failure
from sluice.core.paths import private_dir, state_dir


def failure_log_path(job_id: str) -> Path:
    return state_dir() / "jobs" / job_id / "failures.ndjson"


class FailureLog:
    """Append-only NDJSON writer with an entry cap."""

    def __init__(self, path: Path | None, max_entries: int = 10_000) -> None:
        self.path = path
        self.max_entries = max_entries
        self.recorded = 0
        self.dropped = 0
        self._file: Any = None  # opened on the first failure: a clean job leaves no file

    def record(self, failure: Failure) -> None:
        if self.path is None or self.recorded >= self.max_entries:
            self.dropped += 1
            return
        if self._file is None:
            # Private: the reasons quote document content (titles, paths, field values).
            private_dir(self.path.parent)
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
            descriptor = os.open(self.path, flags, 0o600)
            if hasattr(os, "fchmod"):
                os.fchmod(descriptor, 0o600)  # an older log may have been written 0644
            self._file = os.fdopen(descriptor, "ab")
        entry = {
            "time": datetime.fromtimestamp(failure.at, UTC).isoformat(),
            "id": failure.doc_id,
            "operation": failure.operation,
            "reason": failure.reason,
        }
        if failure.name:
            entry["name"] = failure.name  # a path or a title: what a person looks for
        self._file.write(orjson.dumps(entry) + b"\n")
        self.recorded += 1

    def close(self) -> None:
        if self._file is not None:
            if self.dropped:
                note = {"note": f"{self.dropped} more failures were not recorded (cap reached)"}
                self._file.write(orjson.dumps(note) + b"\n")
            self._file.close()
            self._file = None


def read_failures(path: Path, limit: int | None = None) -> Iterator[dict]:
    """Entries of a failure log, oldest first; a missing log reads as empty."""
    if not path.exists():
        return
    with open(path, "rb") as handle:
        for count, line in enumerate(handle):
            if limit is not None and count >= limit:
                return
            if line.strip():
                yield orjson.loads(line)


def export_failures(source: Path, destination: Path) -> int:
    """Copy a failure log to `destination`: CSV when it ends in `.csv` (for spreadsheets),
    NDJSON otherwise. Returns the number of failures written. Written atomically."""
    columns = ("time", "id", "name", "operation", "reason")
    entries = [entry for entry in read_failures(source) if "id" in entry]
    temporary = destination.with_name(f".{destination.name}.tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        if destination.suffix.lower() == ".csv":
            writer = csv.writer(handle)
            writer.writerow(columns)
            for entry in entries:
                writer.writerow([entry.get(k, "") for k in columns])
        else:
            for entry in entries:
                handle.write(orjson.dumps(entry).decode() + "\n")
    os.replace(temporary, destination)
    return len(entries)
