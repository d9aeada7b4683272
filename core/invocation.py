"""How the user can call `sluice` from here, so every hint we print is a command that works.

`make run` installs Sluice into `.venv` without touching PATH: a hint saying `sluice run` would
fail with "command not found". `sluice_command()` says `sluice` only when the `sluice` on PATH
is this installation, else the path of this installation's script (relative to the current
folder when it is below it, e.g. `.venv/bin/sluice`), else `python -m sluice`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import sysconfig
from pathlib import Path

SCRIPT = "sluice"


def installed_script() -> Path | None:
    """This installation's `sluice` console script: the one running, else the one in the
    interpreter's scripts folder; None when neither exists (run as `python -m sluice`)."""
    running = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if running is not None and running.name == SCRIPT and running.is_file():
        return running
    scripts = sysconfig.get_path("scripts")
    candidate = Path(scripts) / SCRIPT if scripts else None
    return candidate if candidate is not None and candidate.is_file() else None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or os.path.samefile(a, b)
    except OSError:
        return False


def _shown(script: Path) -> str:
    """The script's path as a user would type it: relative below the current folder."""
    absolute = script.absolute()
    try:
        relative = absolute.relative_to(Path.cwd())
    except (ValueError, OSError):
        return shlex.quote(str(absolute))
    return shlex.quote(str(relative) if relative.parent != Path() else f"./{relative}")


def sluice_command() -> str:
    """`sluice`, `.venv/bin/sluice` or `/path/to/python -m sluice`: what to type to run Sluice."""
    script = installed_script()
    if script is None:
        return f"{shlex.quote(sys.executable)} -m sluice"
    on_path = shutil.which(SCRIPT)
    if on_path is not None and _same_file(Path(on_path), script):
        return SCRIPT
    return _shown(script)
