from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "config"


@pytest.fixture
def elastic_example() -> Path:
    """Every key of Elastic's config.yml.example with its default, dotted style."""
    return DATA / "elastic-config.yml.example"


@pytest.fixture
def write(tmp_path: Path):
    """Write `text` to tmp/config.yml and return the path."""

    def write(text: str, name: str = "config.yml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
