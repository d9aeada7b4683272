"""Timestamps as the connector indices store them.

Kibana writes `2024-05-01T10:00:00.000Z`, Elasticsearch's Connector API writes Java instants
(up to nanoseconds, `Z`), Elastic's Python service writes `+00:00` offsets. Sluice writes the
Kibana form and reads all of them, always as timezone-aware UTC datetimes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """`moment` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_now() -> str:
    return to_iso(utc_now())


def parse_time(value: object) -> datetime | None:
    """A stored timestamp (ISO string or epoch milliseconds) as an aware UTC datetime;
    None for a missing or unreadable value (bookkeeping must never crash a reader)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    if not isinstance(value, str):
        return None
    text = _FRACTION.sub(r"\1", value.strip())
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
