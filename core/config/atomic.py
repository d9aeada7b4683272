"""Replace a file so that readers see either the old or the new version, never half of one:
write a temp file in the same directory, fsync, check it, then `os.replace`. The previous
version is kept as `<name>.bak`."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TextIO


def atomic_write(
    path: str | os.PathLike[str],
    write: Callable[[TextIO], None],
    *,
    mode: int | None = None,
    backup: bool = True,
    check: Callable[[str], None] | None = None,
    backup_text: Callable[[str], str] | None = None,
) -> Path:
    """Write through `write(stream)`, verify with `check(text)`, then swap the file in.

    `mode` forces permissions (e.g. 0o600); otherwise an existing file keeps its mode and a new
    one gets the umask default. `backup_text(old)` may rewrite what the `.bak` keeps (to drop a
    secret). On any failure the temp file is removed and the original is untouched. Returns
    the real path written (symlinks are followed)."""
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    existing = target.stat() if target.exists() else None
    final_mode = mode if mode is not None else _default_mode(existing)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        if check is not None:
            check(temp.read_text(encoding="utf-8"))
        os.chmod(temp, final_mode)
        if existing is not None:
            _keep_owner(temp, existing)
            if backup:
                _backup(target, existing, final_mode, backup_text)
        os.replace(temp, target)
        _fsync_directory(target.parent)
    except BaseException:
        with suppress(FileNotFoundError):
            temp.unlink()
        raise
    return target


def backup_path(path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    return target.with_name(target.name + ".bak")


def _backup(
    target: Path,
    existing: os.stat_result,
    new_mode: int,
    rewrite: Callable[[str], str] | None = None,
) -> None:
    """Copy the current version to `<name>.bak`, no more readable than either version."""
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".bak")
    os.close(fd)
    try:
        if rewrite is None:
            shutil.copyfile(target, temp_name)
        else:
            text = rewrite(target.read_text(encoding="utf-8"))
            Path(temp_name).write_text(text, encoding="utf-8", newline="")
        os.chmod(temp_name, stat.S_IMODE(existing.st_mode) & new_mode)
        os.replace(temp_name, backup_path(target))
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def _default_mode(existing: os.stat_result | None) -> int:
    if existing is not None:
        return stat.S_IMODE(existing.st_mode)
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it (Linux); 022 elsewhere."""
    with suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _keep_owner(temp: Path, existing: os.stat_result) -> None:
    if (existing.st_uid, existing.st_gid) != (os.getuid(), os.getgid()):
        with suppress(PermissionError):
            os.chown(temp, existing.st_uid, existing.st_gid)


def _fsync_directory(directory: Path) -> None:
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
