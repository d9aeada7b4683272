"""The `sluice` console script: version, help, and usage errors."""

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from sluice import core
from sluice.cli.main import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sluice", *args], capture_output=True, text=True, timeout=60
    )


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"sluice {core.__version__}"


def test_help_lists_subcommands():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "usage: sluice" in result.stdout


def test_unknown_argument_prints_usage_and_exits_2(capsys):
    try:
        main(["--no-such-flag"])
    except SystemExit as exc:
        assert exc.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: sluice")
    assert "unrecognized arguments: --no-such-flag" in err


CRASHING = (
    "import sys, sluice.cli.common\n"
    "def boom(path):\n"
    "    raise RuntimeError('the unexpected happened')\n"
    "sluice.cli.common.load_config = boom\n"
    "from sluice.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def test_an_unexpected_exception_is_one_line_naming_a_crash_report(tmp_path):
    env = {**os.environ, "SLUICE_STATE_DIR": str(tmp_path / "state")}
    command = [sys.executable, "-c", CRASHING, "connector", "list", "-c", "x.yml"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stdout == ""
    match = re.fullmatch(
        r"sluice: error: unexpected RuntimeError — details in (\S+)\n", result.stderr
    )
    assert match, result.stderr
    report = Path(match[1])
    assert report.parent.parent == tmp_path / "state"
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert "RuntimeError: the unexpected happened" in report.read_text()

    result = subprocess.run([*command, "--json"], capture_output=True, text=True, env=env)
    error = json.loads(result.stdout)["error"]
    assert result.returncode == 1 and error["exit_code"] == 1
    assert error["message"].startswith("unexpected RuntimeError — details in ")


def test_usage_errors_answer_json_too(capsys):
    assert main(["connector", "show", "--json"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("usage: sluice connector show")
    assert "sluice connector show: error: the following arguments are required: ID" in err
    assert json.loads(out) == {
        "error": {"message": "the following arguments are required: ID", "exit_code": 2}
    }


#: What `--help` and `--version` must not load: each subcommand imports these when it runs.
HEAVY_MODULES = (
    "elasticsearch",
    "elastic_transport",
    "textual",
    "sluice.sources",
    "sluice.core.extraction",
)


def _loaded_by(*args: str) -> list[str]:
    """Modules a fresh interpreter holds after `sluice ARGS` exits (stdout is the list)."""
    code = (
        "import sys\n"
        "from sluice.cli.main import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    return result.stderr.split()


def test_help_and_version_import_none_of_the_heavy_modules():
    for args in (("--help",), ("--version",), ("connector", "--help"), ("sync", "--help")):
        loaded = _loaded_by(*args)
        assert "sluice.cli.main" in loaded, args
        heavy = [m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in HEAVY_MODULES)]
        assert heavy == [], f"sluice {' '.join(args)} imported {heavy[:5]}"


def test_the_tui_loads_without_the_elasticsearch_client_or_the_engine():
    """Issue 20: the wizard's and the monitor's modules (what the first frame needs) leave the
    client, the engine and the extraction stack to the first step that uses them."""
    code = (
        "import sys\n"
        "import sluice.tui.app, sluice.tui.monitor_app\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = result.stdout.split()
    assert "sluice.tui.app" in loaded
    heavy = (
        "elasticsearch",
        "elastic_transport",
        "sluice.core.engine.engine",
        "sluice.core.engine.runner",
        "sluice.core.extraction",
    )
    found = [m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in heavy)]
    assert found == [], f"the TUI's modules imported {found[:5]}"
