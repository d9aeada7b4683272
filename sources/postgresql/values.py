"""asyncpg's own value types (geometry, bit strings, ranges) as document values."""

from __future__ import annotations

from typing import Any

from asyncpg.types import BitString, Box, Circle, Line, LineSegment, Path, Point, Polygon, Range


def _point(point: Any) -> str:
    return f"({point[0]:g},{point[1]:g})"


def postgres_value(value: Any) -> Any:
    """PostgreSQL's text form of geometric types, bit strings and ranges; NotImplemented for
    anything else (the generic conversion handles it)."""
    if isinstance(value, Point):
        return _point(value)
    if isinstance(value, (Box, LineSegment)):
        return "(" + ",".join(_point(p) for p in value) + ")"
    if isinstance(value, Polygon):  # a Path subclass: check first
        return "(" + ",".join(_point(p) for p in value.points) + ")"
    if isinstance(value, Path):
        inner = ",".join(_point(p) for p in value.points)
        return f"({inner})" if value.is_closed else f"[{inner}]"
    if isinstance(value, Circle):
        return f"<{_point(value.center)},{value.radius:g}>"
    if isinstance(value, Line):
        return "{" + ",".join(f"{part:g}" for part in value) + "}"
    if isinstance(value, BitString):
        return value.as_string().replace(" ", "")
    if isinstance(value, Range):
        if value.isempty:
            return "empty"
        lower = "" if value.lower is None else str(value.lower)
        upper = "" if value.upper is None else str(value.upper)
        return f"{'[' if value.lower_inc else '('}{lower},{upper}{']' if value.upper_inc else ')'}"
    return NotImplemented
