"""The incremental-sync cursor of the SQL sources.

    {"version": 1, "modified_column": "updated_at",
     "tables": {"public.orders": {"type": "datetime", "value": "2024-05-01T10:00:00+00:00"}}}

One high-water mark per table, typed so it goes back to the server as the column's type.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

VERSION = 1


def encode_mark(value: Any) -> dict[str, Any] | None:
    if isinstance(value, datetime):
        return {"type": "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {"type": "date", "value": value.isoformat()}
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return {"type": "int", "value": value}
    if isinstance(value, Decimal):
        return {"type": "decimal", "value": str(value)}
    return {"type": "text", "value": str(value)}


def decode_mark(mark: Any) -> Any:
    if not isinstance(mark, dict) or "value" not in mark:
        return None
    kind, value = mark.get("type"), mark["value"]
    try:
        if kind == "datetime":
            return datetime.fromisoformat(value)
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "int":
            return int(value)
        if kind == "decimal":
            return Decimal(value)
        return str(value)
    except (TypeError, ValueError):
        return None


def marks_of(cursor: Any, modified_column: str) -> dict[str, Any]:
    """`table -> decoded mark` from a stored cursor; empty when the cursor is absent,
    foreign, or was made for another modification column."""
    if not isinstance(cursor, dict) or cursor.get("modified_column") != modified_column:
        return {}
    tables = cursor.get("tables")
    if not isinstance(tables, dict):
        return {}
    marks = {name: decode_mark(mark) for name, mark in tables.items()}
    return {name: mark for name, mark in marks.items() if mark is not None}


def make_cursor(modified_column: str, marks: dict[str, Any]) -> dict[str, Any]:
    encoded = {name: encode_mark(value) for name, value in marks.items()}
    return {
        "version": VERSION,
        "modified_column": modified_column,
        "tables": {name: mark for name, mark in encoded.items() if mark is not None},
    }


def later(current: Any, candidate: Any) -> Any:
    """The larger of two marks (None-safe; incomparable values keep the current one)."""
    if candidate is None:
        return current
    if current is None:
        return candidate
    try:
        return candidate if candidate > current else current
    except TypeError:
        return current
