"""What a killed sync leaves on disk, and how a later instance recognises and removes it.

Every ledger folder (`core.engine.snapshot.IdLedger`) holds an `owner.json` naming the host,
the process and its start time (a reused pid is not the same process). A folder whose owner
is gone is an orphan: `remove_orphans` deletes the temporary ones (`sluice-sync-*` in the
temporary folder) at the start of `sluice run` and of every sync. A durable ledger of a job
is removed when its job ends (`core.engine.runner`), resumed otherwise.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

from sluice.core.processes import alive, start_time

log = logging.getLogger("sluice.engine")

LEDGER_PREFIX = "sluice-sync-"
OWNER_FILE = "owner.json"
#: A folder without an owner file (written by a version before owner files) counts as an
#: orphan once this old: no sync keeps its ledger that long without touching it.
UNOWNED_AFTER_SECONDS = 24 * 3600


def write_owner(folder: Path) -> None:
    """Record this process as the folder's owner."""
    pid = os.getpid()
    owner = {"host": socket.gethostname(), "pid": pid, "ticks": start_time(pid)}
    (folder / OWNER_FILE).write_text(json.dumps(owner))


def owner_alive(folder: Path) -> bool | None:
    """Whether the process that owns `folder` still runs on this host: None when that cannot
    be told (no owner file, another host's folder on a shared disk)."""
    try:
        owner = json.loads((folder / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(owner, dict) or owner.get("host") != socket.gethostname():
        return None
    pid, ticks = owner.get("pid"), owner.get("ticks")
    if not isinstance(pid, int):
        return None
    return alive(pid, ticks if isinstance(ticks, int) else None)


def is_orphan(folder: Path, *, now: float | None = None) -> bool:
    """`folder`'s owner is dead (or, without an owner file, it has not changed for a day)."""
    state = owner_alive(folder)
    if state is not None:
        return not state
    if (folder / OWNER_FILE).exists():
        return False  # another host's: not ours to judge
    try:
        age = (now or time.time()) - folder.stat().st_mtime
    except OSError:
        return False
    return age > UNOWNED_AFTER_SECONDS


def remove_orphans(directory: Path | None = None) -> list[Path]:
    """Delete the temporary ledger folders no live process owns; returns what was removed."""
    base = Path(directory or tempfile.gettempdir())
    removed = []
    try:
        candidates = [p for p in base.iterdir() if p.name.startswith(LEDGER_PREFIX)]
    except OSError:
        return []
    for folder in candidates:
        if folder.is_dir() and is_orphan(folder):
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
    if removed:
        log.info("removed %d folder(s) left by syncs that were killed", len(removed))
    return removed
