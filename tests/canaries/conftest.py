"""Secret canaries: distinctive fake secrets planted in every place a user types or stores
one, then looked for everywhere Sluice writes. Each must appear only where the user chose
to keep it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers.fixtures import *  # noqa: F403 - fake_es for the TUI canaries
from tests.tui.conftest import docs_dir, unique  # noqa: F401 - fixtures

#: Non-ASCII on purpose: encoding paths are where secrets used to leak.
ES_API_KEY = "Q0FOQVJZLWVzLWFwaS1rZXktN2Y0ZA=="
ES_PASSWORD = "canary-es-pässwörd-🔑-91c2"
SOURCE_PASSWORD = "canary-pg-pässwörd-🔑-5e7a"
CANARIES = (ES_API_KEY, ES_PASSWORD, SOURCE_PASSWORD)


def leaks(text: str, canaries: Iterable[str] = CANARIES) -> list[str]:
    """The canaries found in `text`, also in their escaped forms."""
    found = []
    for canary in canaries:
        forms = {canary, canary.encode("unicode_escape").decode(), repr(canary)[1:-1]}
        forms.add(canary.encode("ascii", "backslashreplace").decode())
        forms.add(json.dumps(canary)[1:-1])
        if any(form in text for form in forms):
            found.append(canary)
    return found


def files_under(folder: Path) -> Iterator[Path]:
    if folder.exists():
        yield from (p for p in folder.rglob("*") if p.is_file())


def leaking_files(folder: Path, canaries: Iterable[str] = CANARIES) -> dict[str, list[str]]:
    """`path -> canaries` for every file under `folder` that holds one."""
    found: dict[str, list[str]] = {}
    for path in files_under(folder):
        text = path.read_bytes().decode("utf-8", "replace")
        hits = leaks(text, canaries)
        if hits:
            found[str(path)] = hits
    return found


def paths_holding(value: Any, canary: str, path: str = "") -> list[str]:
    """Dotted paths inside a JSON document where `canary` is stored."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in paths_holding(v, canary, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in paths_holding(v, canary, f"{path}[{i}]")]
    return [path.lstrip(".")] if isinstance(value, str) and canary in value else []


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("SLUICE_STATE_DIR", str(folder))
    return folder
