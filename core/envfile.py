"""An environment file (`NAME=value` lines, mode 0600) for secrets referenced as `${NAME}`.

systemd's `EnvironmentFile=` and `docker run --env-file` read this format, so the service can
get a secret that config.yml only references. Written atomically, readable by the owner only.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TextIO

from sluice.core.config.atomic import atomic_write

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def set_env_value(path: str | os.PathLike[str], name: str, value: str) -> Path:
    """Add or replace `name=value` in the file at `path` (created 0600 if missing)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not an environment variable name")
    if "\n" in value or "\r" in value:
        raise ValueError(f"the value for {name} must be one line")
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = target.read_text(encoding="utf-8").splitlines() if target.exists() else []
    kept = [line for line in lines if not line.startswith(f"{name}=")]
    kept.append(f"{name}={value}")
    text = "\n".join(kept) + "\n"

    def write(stream: TextIO) -> None:
        stream.write(text)

    atomic_write(target, write, mode=0o600, backup=False)
    return target
