"""The `tables` setting: a comma list of names or `*` for every table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

WILDCARD = "*"


def configured_tables(value: Any) -> list[str]:
    """Table names from the setting (comma string or list), blanks dropped, order kept,
    duplicates removed."""
    if value is None:
        return []
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    names: list[str] = []
    for item in items:
        name = str(item).strip()
        if name and name not in names:
            names.append(name)
    return names


def is_wildcard(tables: list[str]) -> bool:
    return tables == [WILDCARD]
