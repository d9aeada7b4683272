"""The environment doctor: is this machine ready to set up and run a connector?

Checks that need no Elasticsearch (those live in `core.checks`): Python, the folder that will
hold config.yml, free disk for the sync's temporary id ledger, the OS keyring, the local
sandbox. Each yields a `CheckResult` with a fix, like the cluster checks, so the TUI shows
both with the same widget and `sluice check` could print both the same way.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from sluice.core.checks.result import CheckResult, Outcome, fail, ok, skip, warn
from sluice.core.invocation import sluice_command
from sluice.core.sandbox import sandbox_available
from sluice.core.secrets import keyring_status

MIN_PYTHON = (3, 11)
LOW_DISK_BYTES = 1 << 30  # 1 GiB


def check_python() -> Outcome:
    version = ".".join(str(part) for part in sys.version_info[:3])
    if sys.version_info[:2] < MIN_PYTHON:
        return fail(
            f"Python {version} is too old",
            f"install Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or later and reinstall Sluice",
        )
    return ok(f"Python {version}")


def _existing_parent(path: Path) -> Path:
    current = path
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def check_config_folder(config_path: Path) -> Outcome:
    folder = config_path.expanduser().resolve().parent
    existing = _existing_parent(folder)
    if not os.access(existing, os.W_OK):
        return fail(
            f"cannot write in {existing}",
            "run Sluice from a folder you can write to, or pass -c /path/you/own/config.yml",
            "config_path",
        )
    return ok(f"config.yml can be written in {folder}", field="config_path")


def check_config_file(config_path: Path) -> Outcome:
    """An existing config.yml with problems must show on the first screen, not when a later
    step or `sluice run` trips over it."""
    from sluice.core.config import ConfigError, load_config

    path = config_path.expanduser()
    if not path.exists():
        return skip(f"no {path.name} yet: step 4 writes it", field="config_path")
    try:
        config = load_config(path, resolve_secrets=False)
    except ConfigError as exc:
        errors = [str(p) for p in exc.errors or exc.problems]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return fail(
            f"{_short(errors[0] if errors else str(exc))}{more}",
            f"fix {path} in an editor (the message names the line), or start with another "
            "file: `-c PATH`",
            "config_path",
        )
    if config.warnings:
        more = f" (and {len(config.warnings) - 1} more)" if len(config.warnings) > 1 else ""
        return warn(
            f"{_short(str(config.warnings[0]))}{more}",
            f"`{sluice_command()} check -c {path}` lists them all",
            "config_path",
        )
    return ok(f"{path} reads without problems", field="config_path")


def _short(text: str, width: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def check_disk(config_path: Path) -> Outcome:
    folder = _existing_parent(config_path.expanduser().resolve().parent)
    places = {"config folder": folder, "temporary folder": Path(tempfile.gettempdir())}
    lows = []
    for name, place in places.items():
        free = shutil.disk_usage(place).free
        if free < LOW_DISK_BYTES:
            lows.append(f"{name} {place}: {free / (1 << 20):.0f} MiB free")
    if lows:
        return warn(
            "little free disk: " + "; ".join(lows),
            "free some space: a sync keeps its id ledger in the temporary folder "
            "(about 50 MB per million documents)",
        )
    free_gib = shutil.disk_usage(folder).free / (1 << 30)
    return ok(f"{free_gib:.1f} GiB free")


def check_keyring() -> Outcome:
    status = keyring_status()
    if status.available:
        return ok(f"OS keyring available ({status.backend.rsplit('.', 2)[-2]})")
    return warn(
        "no OS keyring here: secrets can go to an environment variable or config.yml",
        status.explanation,
        "secret_placement",
    )


def check_sandbox() -> Outcome:
    if sandbox_available():
        return ok("the local sandbox can start (to try Sluice without a cluster)")
    return skip(
        "the local sandbox is not installed (only needed to try Sluice without a cluster)",
        "pip install 'sluice[sandbox]'",
    )


def environment_checks(config_path: Path) -> list[tuple[str, str, Callable[[], Outcome]]]:
    return [
        ("python", "Python version", check_python),
        ("config_folder", "Config folder", lambda: check_config_folder(config_path)),
        ("config_file", "config.yml", lambda: check_config_file(config_path)),
        ("disk", "Free disk space", lambda: check_disk(config_path)),
        ("keyring", "OS keyring for secrets", check_keyring),
        ("sandbox", "Local sandbox", check_sandbox),
    ]


def planned_environment_checks(config_path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    return [(check_id, title) for check_id, title, _ in environment_checks(Path(config_path))]


async def run_environment_checks(
    config_path: str | os.PathLike[str],
) -> AsyncIterator[CheckResult]:
    """Yield each result in order; each check runs in a thread (the keyring may block on
    D-Bus), so a UI loop never waits on one."""
    for check_id, title, function in environment_checks(Path(config_path)):
        start = time.perf_counter()
        try:
            outcome = await asyncio.to_thread(function)
        except Exception as exc:  # a bug in one check must not hide the others
            outcome = fail(f"unexpected error: {type(exc).__name__}: {exc}")
        yield CheckResult(
            id=check_id,
            title=title,
            status=outcome.status,
            message=outcome.message,
            hint=outcome.hint,
            duration_ms=round((time.perf_counter() - start) * 1000, 1),
            field=outcome.field,
        )
