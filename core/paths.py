"""Where Sluice keeps its own files: one place, so every writer agrees and keeps them private."""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """Where Sluice keeps job state and reports: $SLUICE_STATE_DIR, else XDG state home."""
    if os.environ.get("SLUICE_STATE_DIR"):
        return Path(os.environ["SLUICE_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "sluice"


def private_dir(path: Path) -> Path:
    """Create `path` readable by this user only (0700): it may hold document content.

    Folders created on the way are 0700 too, and inside the state folder every folder from
    it down to `path` is made 0700 (older versions left them 0755); folders outside it that
    already existed keep their mode."""
    path = Path(path)
    missing = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    _make_private(path)
    state = state_dir()
    if state in path.parents:
        for folder in path.parents:
            _make_private(folder)
            if folder == state:
                break
    return path


def _make_private(folder: Path) -> None:
    try:
        os.chmod(folder, 0o700)
    except OSError:  # not ours (a shared parent): what it holds is private anyway
        pass
