"""Database values to JSON-safe document values, without silent precision loss.

- Decimal: a float when the float is exact, else the exact decimal text (Elasticsearch
  coerces numeric text into a numeric field, and `_source` keeps every digit); NaN and
  infinities become text, since JSON has no such numbers.
- datetime/date/time: ISO 8601, with the offset when the value has a time zone.
- timedelta (intervals, MySQL TIME): ISO 8601 duration (`P1DT2H3M4.5S`).
- bytes: base64 text.
- UUID, IP addresses and networks, and anything unknown: their text form.
- lists, tuples, sets and dicts: converted item by item.
"""

from __future__ import annotations

import base64
import enum
import ipaddress
import math
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

Converter = Callable[[Any], Any]
_NETWORK_TYPES = (
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
)


def to_json_value(value: Any, special: Converter | None = None) -> Any:
    """`value` as something `json.dumps` writes and Elasticsearch accepts.

    `special(value)` is tried first for driver-specific types; it returns `NotImplemented`
    for values it does not handle.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if special is not None:
        converted = special(value)
        if converted is not NotImplemented:
            return converted
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return decimal_value(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (uuid.UUID, *_NETWORK_TYPES)):
        return str(value)
    if isinstance(value, enum.Enum):
        return to_json_value(value.value, special)
    if isinstance(value, dict):
        return {str(key): to_json_value(item, special) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(item, special) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_json_value(item, special) for item in value), key=str)
    return str(value)


def decimal_value(value: Decimal) -> float | str:
    if not value.is_finite():
        return str(value)
    as_float = float(value)
    if math.isfinite(as_float) and Decimal(repr(as_float)) == value:
        return as_float
    return str(value)


def iso_duration(value: timedelta) -> str:
    """ISO 8601 duration of a timedelta; negative durations get a leading minus."""
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    days = value.days
    seconds = value.seconds
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{sign}P{days}D" if days else f"{sign}P"
    clock = ""
    if hours:
        clock += f"{hours}H"
    if minutes:
        clock += f"{minutes}M"
    if seconds or value.microseconds or not (days or hours or minutes):
        fraction = f"{seconds + value.microseconds / 1_000_000:.6f}".rstrip("0").rstrip(".")
        clock += f"{fraction}S"
    return text + ("T" + clock if clock else "")


def convert_row(row: dict[str, Any], special: Converter | None = None) -> dict[str, Any]:
    return {key: to_json_value(value, special) for key, value in row.items()}
