"""An environment file (`NAME=value` lines, mode 0600) for secrets referenced as `${NAME}`.

systemd's `EnvironmentFile=` and `docker run --env-file` read this format, so the service can
get a secret that config.yml only references. Written atomically, readable by the owner only.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

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
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(kept) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target
