"""Ledger folders left by a killed sync are recognised by their dead owner and removed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sluice.core.engine.orphans import LEDGER_PREFIX, OWNER_FILE, is_orphan, remove_orphans
from sluice.core.engine.snapshot import IdLedger


def test_a_killed_processs_ledger_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path\n"
        "from sluice.core.engine.snapshot import IdLedger\n"
        "ledger = IdLedger(Path(sys.argv[1]))\n"
        "print(ledger.path.parent, flush=True)\n"
        "import os; os._exit(0)\n"  # gone without closing it, as kill -9 leaves it
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True
    )
    dead = Path(out.stdout.strip())
    assert dead.name.startswith(LEDGER_PREFIX) and dead.exists()
    assert json.loads((dead / OWNER_FILE).read_text())["pid"] != os.getpid()
    live = IdLedger(tmp_path)
    try:
        assert remove_orphans(tmp_path) == [dead]
        assert not dead.exists()
        assert live.path.exists() and not is_orphan(live.path.parent)
    finally:
        live.close()
    assert not live.path.parent.exists()


def test_a_folder_without_owner_is_an_orphan_only_once_old(tmp_path: Path) -> None:
    folder = tmp_path / f"{LEDGER_PREFIX}legacy"
    folder.mkdir()
    assert not is_orphan(folder)
    assert is_orphan(folder, now=time.time() + 2 * 24 * 3600)
