"""Run import-linter on the installed layout.

The folders `core/`, `sources/`, `tui/`, `cli/` are installed as `sluice.core` … (package-dir
mapping in pyproject.toml), which import-linter's graph builder cannot follow: it reads one
top-level folder. This stages the layout in a temporary folder (`sluice/` with the four
folders inside, as in the wheel) and runs `lint-imports` there with the project's contracts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("core", "sources", "tui", "cli")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="sluice-lint-") as staging:
        package = Path(staging) / "sluice"
        shutil.copytree(ROOT / "sluice", package, ignore=shutil.ignore_patterns("__pycache__"))
        for folder in FOLDERS:
            shutil.copytree(
                ROOT / folder, package / folder, ignore=shutil.ignore_patterns("__pycache__")
            )
        shutil.copy(ROOT / "pyproject.toml", staging)
        env = {**os.environ, "PYTHONPATH": staging}
        linter = Path(sys.executable).with_name("lint-imports")
        return subprocess.run([str(linter), "--no-cache"], cwd=staging, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
