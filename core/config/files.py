"""Read config.yml from disk, refusing what is not a config file — missing, a folder, not
UTF-8, or far too large (`/dev/zero`, a log given by mistake) — with one line that says so,
before any parser sees it."""

from __future__ import annotations

import os
from pathlib import Path

from sluice.core.config.problems import ConfigError, Problem

#: A real config.yml is a few kilobytes; Elastic's example with every key is 10 KiB.
MAX_BYTES = 1024 * 1024

CREATE_HINT = (
    "create one with `sluice` (the setup wizard) or `sluice connector create --write-config`"
)


def read_config_text(
    path: str | os.PathLike[str], label: str | None = None, *, missing_ok: bool = False
) -> str:
    """The text of the file at `path`. Raises `ConfigError` naming `label` (default: the path)
    when it cannot be used; with `missing_ok`, a missing file reads as ""."""
    label = label if label is not None else str(path)
    try:
        with open(Path(path), "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
            size = max(len(data), os.fstat(handle.fileno()).st_size)
    except FileNotFoundError:
        if missing_ok:
            return ""
        raise _error(label, "config file not found", CREATE_HINT) from None
    except IsADirectoryError:
        raise _error(label, "is a directory, not a config file", CREATE_HINT) from None
    except OSError as exc:
        raise _error(label, f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise _error(
            label,
            f"is {_size(size)}, more than a config file can be ({_size(MAX_BYTES)})",
            "a config.yml is a few kilobytes; is this the right file?",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            [
                Problem(
                    "",
                    f"is not UTF-8 text (byte 0x{data[exc.start]:02X} at byte {exc.start})",
                    hint="save the file as UTF-8",
                    line=line,
                    column=column,
                    file=label,
                )
            ]
        ) from None


def _error(label: str, message: str, hint: str | None = None) -> ConfigError:
    return ConfigError([Problem("", message, hint=hint, file=label)])


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MiB"
    return f"{count / 1024:.0f} KiB" if count >= 1024 else f"{count} bytes"
