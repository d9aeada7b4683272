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
            names.update(_package_of(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "sluice":  # from sluice import core
                names.update(alias.name for alias in node.names)
            else:
                names.add(_package_of(node.module))
    return names


def _package_of(module: str) -> str:
    """`sluice.tui.app` → `tui`; `textual.app` → `textual`."""
    parts = module.split(".")
    return parts[1] if parts[0] == "sluice" and len(parts) > 1 else parts[0]


#: Sluice's folders, importable only as `sluice.<name>`.
OWN_PACKAGES = {"core", "cli", "tui", "sources"}
CODE_FOLDERS = ("core", "cli", "tui", "sources", "sluice", "tests", "benchmarks", "scripts")


def test_nothing_imports_the_folders_by_their_bare_names():
    """`import core` would load a second copy of every module next to `sluice.core` (and
    finds other distributions' `core`/`cli` in site-packages): always `sluice.core`."""
    offenders = []
    for folder in CODE_FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    bare = {a.name.split(".")[0] for a in node.names} & OWN_PACKAGES
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    bare = {node.module.split(".")[0]} & OWN_PACKAGES
                else:
                    continue
                if bare:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_each_module_is_loaded_once_under_the_sluice_name():
    code = (
        "import sys, sluice.cli.main, sluice.tui.app, sluice.core.engine.runner, "
        "sluice.sources.registry; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(OWN_PACKAGES)!r}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_package_folder_is_in_the_wheel():
    """pyproject.toml lists the packages (the folders map into `sluice.*`): a new folder
    left out would be missing from an installed Sluice."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(project["tool"]["setuptools"]["packages"])
    found = {"sluice"}
    for top in sorted(OWN_PACKAGES):
        for init in (ROOT / top).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT).parts
            found.add(".".join(("sluice", *relative)))
    assert found - listed == set()
    assert listed - found == set()


def test_core_and_sources_never_import_textual_or_tui():
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("core", "sources")
        for path in (ROOT / package).rglob("*.py")
        if imported_modules(path) & {"textual", "tui", "cli"}
    ]
    assert offenders == []


def test_headless_command_loads_without_textual():
    code = "import sys, sluice.cli.main as m; m.build_parser(); print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_bare_folder_names_are_not_importable_outside_the_checkout():
    for name in sorted(OWN_PACKAGES):
        result = subprocess.run(
            [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd="/"
        )
        assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr, name


def test_no_import_cycles_between_modules():
    """Tarjan over import-linter's graph of the installed layout: no module reaches itself
    through its imports (deferred imports inside functions included)."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sluice-cycles-") as staging:
        package = Path(staging) / "sluice"
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / "sluice", package, ignore=ignore)
        for folder in sorted(OWN_PACKAGES):
            shutil.copytree(ROOT / folder, package / folder, ignore=ignore)
        code = (
            "import sys, grimp\n"
            "g = grimp.build_graph('sluice', cache_dir=None)\n"
            "sys.setrecursionlimit(100000)\n"
            "index, low, stack, on, cycles = {}, {}, [], set(), []\n"
            "def visit(v):\n"
            "    index[v] = low[v] = len(index); stack.append(v); on.add(v)\n"
            "    for w in g.find_modules_directly_imported_by(v):\n"
            "        if w not in g.modules: continue\n"
            "        if w not in index:\n"
            "            visit(w); low[v] = min(low[v], low[w])\n"
            "        elif w in on: low[v] = min(low[v], index[w])\n"
            "    if low[v] == index[v]:\n"
            "        group = []\n"
            "        while True:\n"
            "            w = stack.pop(); on.discard(w); group.append(w)\n"
            "            if w == v: break\n"
            "        if len(group) > 1: cycles.append(sorted(group))\n"
            "for m in sorted(g.modules):\n"
            "    if m not in index: visit(m)\n"
            "print(cycles)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=staging,
            env={"PYTHONPATH": staging, "PATH": "/usr/bin:/bin"},
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
