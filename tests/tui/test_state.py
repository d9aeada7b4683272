"""The wizard's state file names the cluster, the connector and the index: `.sluice/` is
0700 and the file 0600, whatever the umask (issue 12, item 7)."""

from __future__ import annotations

import os
import stat

from sluice.tui.state import WizardState, load_state, save_state, state_path


def test_wizard_state_is_private(tmp_path):
    config = tmp_path / "config.yml"
    previous = os.umask(0o022)
    try:
        path = save_state(WizardState(step=3, es_host="https://es.internal:9200"), config)
    finally:
        os.umask(previous)

    assert path == state_path(config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_state(config).es_host == "https://es.internal:9200"


def test_an_existing_open_state_folder_is_made_private(tmp_path):
    config = tmp_path / "config.yml"
    folder = state_path(config).parent
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)

    save_state(WizardState(), config)

    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
