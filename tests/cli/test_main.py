"""The `sluice` console script: version, help, and usage errors."""

import subprocess
import sys

import core
from cli.main import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=60
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
