"""Crash reports: an unexpected exception becomes a file a user can attach to a bug report.

The report holds the traceback *without local variables* (they hold passwords and API keys),
passed through `core.redact.redact`, written 0600 in a 0700 folder. Front ends print one line
naming the file instead of a traceback.
"""

from __future__ import annotations

import os
import platform
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from sluice import core
from sluice.core.paths import private_dir, state_dir
from sluice.core.redact import redact


def crash_dir() -> Path:
    return state_dir() / "crash-reports"


def format_crash(exc: BaseException, *, context: str) -> str:
    """The report's text: what ran, versions, and the redacted traceback (no locals)."""
    lines = [
        f"Sluice {core.__version__} crash report",
        f"time: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"context: {context}",
        f"python: {platform.python_version()} on {platform.platform()}",
        f"command: {' '.join(sys.argv)}",
        "",
        *traceback.format_exception(exc),
    ]
    return redact("\n".join(line.rstrip("\n") for line in lines) + "\n")


def write_crash_report(exc: BaseException, *, context: str) -> Path | None:
    """Write the report; its path, or None when even that failed (never raises)."""
    try:
        folder = private_dir(crash_dir())
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = folder / f"crash-{stamp}-{os.getpid()}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as stream:
            stream.write(format_crash(exc, context=context))
        return path
    except Exception:
        return None


def one_line(exc: BaseException) -> str:
    """`TypeError: reason` on one line, redacted and ellipsized, for a screen or stderr."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = redact(text)
    if len(text) > 160:
        text = text[:159] + "…"
    return f"{type(exc).__name__}: {text}" if str(exc) else text
