"""`core.paths.private_dir`: what Sluice writes under its state folder (crash reports,
failure logs) and the sandbox's data stay readable by this user only."""

from __future__ import annotations

import os
import stat

from sluice.core.paths import private_dir, state_dir


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_dir_creates_every_missing_folder_0700(tmp_path, monkeypatch):
    monkeypatch.setenv("SLUICE_STATE_DIR", str(tmp_path / "state"))
    previous = os.umask(0o022)
    try:
        folder = private_dir(state_dir() / "jobs" / "abc")
    finally:
        os.umask(previous)
    assert mode(folder) == mode(folder.parent) == mode(state_dir()) == 0o700


def test_folders_outside_the_state_folder_keep_their_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("SLUICE_STATE_DIR", str(tmp_path / "state"))
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    folder = private_dir(shared / "sandbox")
    assert mode(folder) == 0o700
    assert mode(shared) == 0o755
