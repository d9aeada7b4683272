"""`sluice_command()`: hints name a command that runs this installation, on PATH or not."""

from __future__ import annotations

import os
import subprocess
import sysconfig
from pathlib import Path

from sluice.core import invocation
from sluice.core.invocation import sluice_command

SCRIPTS = Path(sysconfig.get_path("scripts"))


def _without_scripts(path: str) -> str:
    return os.pathsep.join(p for p in path.split(os.pathsep) if Path(p) != SCRIPTS)


def test_plain_sluice_only_when_it_is_this_installation_on_path(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"{SCRIPTS}{os.pathsep}{os.environ['PATH']}")
    assert sluice_command() == "sluice"

    monkeypatch.setenv("PATH", _without_scripts(os.environ["PATH"]))
    assert sluice_command() == str(SCRIPTS / "sluice")

    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "sluice").write_text("#!/bin/sh\necho another sluice\n")
    (other / "sluice").chmod(0o755)
    monkeypatch.setenv("PATH", f"{other}{os.pathsep}{os.environ['PATH']}")
    assert sluice_command() == str(SCRIPTS / "sluice")  # not the other one


def test_relative_below_the_current_folder(monkeypatch):
    monkeypatch.setenv("PATH", _without_scripts(os.environ["PATH"]))
    monkeypatch.chdir(SCRIPTS.parent.parent)  # the project folder, for `.venv`
    assert sluice_command() == f"{SCRIPTS.parent.name}/{SCRIPTS.name}/sluice"


def test_the_command_it_names_runs(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", _without_scripts(os.environ["PATH"]))
    monkeypatch.chdir(tmp_path)
    shown = sluice_command()
    result = subprocess.run(
        f"{shown} --version", shell=True, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout.startswith("sluice "), result.stderr


def test_without_a_script_it_names_the_module_that_runs(monkeypatch, tmp_path):
    """No console script (a checkout run in place): `python -m sluice`, the installed name."""
    monkeypatch.setattr(invocation, "installed_script", lambda: None)
    monkeypatch.chdir(tmp_path)
    shown = sluice_command()
    assert shown.endswith(" -m sluice")
    result = subprocess.run(
        f"{shown} --version", shell=True, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout.startswith("sluice "), result.stderr
