"""The layering the README promises: core/ and sources/ run without Textual."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_and_sources_never_import_textual_or_tui():
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("core", "sources")
        for path in (ROOT / package).rglob("*.py")
        if imported_modules(path) & {"textual", "tui", "cli"}
    ]
    assert offenders == []


def test_headless_command_loads_without_textual():
    code = "import sys, cli.main; cli.main.build_parser(); print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
