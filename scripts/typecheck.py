"""Run mypy over `sluice.core` and `sluice.sources` as installed.

The folders `core/`, `sources/` … are the packages `sluice.core`, `sluice.sources` (package-dir
mapping in pyproject.toml); mypy resolves modules from folders and cannot follow the editable
install's import hook. So this builds the installed layout out of symbolic links in a folder
of the temporary directory (`sluice/core` → `core/`; outside the checkout, so nothing that
walks the repository meets the files twice; kept between runs so mypy's cache stays warm),
runs mypy there with the project's `[tool.mypy]` settings, and prints the errors under the
repository's own paths (`core/engine/engine.py`, not `sluice/core/engine/engine.py`)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("core", "sources", "tui", "cli")
CHECKED = ("sluice.core", "sluice.sources")


def stage() -> Path:
    """The staged layout: `sluice/` with the package's own files and the four folders."""
    key = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    staging = Path(tempfile.gettempdir()) / f"sluice-typecheck-{key}"
    package = staging / "sluice"
    package.mkdir(parents=True, exist_ok=True)
    wanted = {entry.name: entry for entry in (ROOT / "sluice").iterdir() if entry.suffix == ".py"}
    wanted.update({folder: ROOT / folder for folder in FOLDERS})
    for name, target in wanted.items():
        link = package / name
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
    return staging


def main() -> int:
    staging = stage()
    mypy = Path(sys.executable).with_name("mypy")
    command = [str(mypy), "--config-file", str(ROOT / "pyproject.toml")]
    command += ["--cache-dir", str(staging / ".mypy_cache")]
    for package in CHECKED:
        command += ["-p", package]
    done = subprocess.run(
        command,
        cwd=staging,
        env={**os.environ, "MYPYPATH": str(staging)},
        capture_output=True,
        text=True,
    )
    for stream, text in ((sys.stdout, done.stdout), (sys.stderr, done.stderr)):
        for folder in FOLDERS:
            text = text.replace(f"sluice/{folder}/", f"{folder}/")
        stream.write(text)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
