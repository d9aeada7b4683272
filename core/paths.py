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
    """Create `path` (and parents) readable by this user only: it may hold document content."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    return path
