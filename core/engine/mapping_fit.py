"""Does a document fit an existing index's mapping? Judged before the first write.

An index filled by another connector (Elastic's `dir` source maps `ctime` as float) rejects
every document whose fields it maps differently, one `document_parsing_exception` at a
time. The engine asks `MappingFit.conflicts` about each document before queuing it, and
fails the sync on the first conflict instead of failing documents one by one.

The rules follow Elasticsearch's parsing (each is proven against the server by
tests/core/engine/test_mapping_fit.py). Only sure rejections are conflicts: a value whose
fate is unclear (a date in a custom format, a type not modelled here) fits, so a
preflight mistake can never stop a sync that would have worked. No Elasticsearch calls:
the engine passes the mappings it read (`GET <index>/_mapping` → `mappings`).

The cost per document is one set lookup per field: a (field path, Python type) pair is
judged once, on the first value of that type, and remembered.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from typing import Any

#: Integer field types and the values they hold (Elasticsearch truncates fractions).
INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "byte": (-(2**7), 2**7 - 1),
    "short": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
    "unsigned_long": (0, 2**64 - 1),
}
FLOAT_TYPES = frozenset({"double", "float", "half_float", "scaled_float"})
NUMERIC_TYPES = FLOAT_TYPES | INTEGER_RANGES.keys()
STRING_TYPES = frozenset(
    {"keyword", "text", "match_only_text", "wildcard", "constant_keyword", "search_as_you_type"}
)
OBJECT_TYPES = frozenset({"object", "nested"})
DATE_TYPES = frozenset({"date", "date_nanos"})
#: Leaf types that reject an object value.
SCALAR_TYPES = NUMERIC_TYPES | DATE_TYPES | STRING_TYPES | {"boolean"}
DEFAULT_DATE_FORMAT = {
    "date": "strict_date_optional_time||epoch_millis",
    "date_nanos": "strict_date_optional_time_nanos||epoch_millis",
}
#: Date formats whose strings are judged here (any other format: strings are not judged).
ISO_FORMATS = frozenset({"strict_date_optional_time", "strict_date_optional_time_nanos"})
EPOCH_FORMATS = frozenset({"epoch_millis", "epoch_second"})
#: date_nanos holds 1970 to 2262: epoch milliseconds in [0, this).
NANOS_MAX_MILLIS = 2**63 // 10**6

#: A decimal number as both Java's parsers and Elasticsearch's epoch parsing read it.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
#: strict_date_optional_time: yyyy[-MM[-dd[THH[:mm[:ss[.fraction]]]][zone]]]
_ISO_DATE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:[Tt](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?)?"
    r"\s?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?)?)?"
)


@dataclass(frozen=True, slots=True)
class Conflict:
    """A field whose value Elasticsearch would reject under the index's mapping."""

    field: str  # dotted path
    sent: str  # what Sluice sends: 'a string ("2026-01-01T…")', 'a number (300)', 'an object'
    mapped: str  # the mapped type; "" for a field a strict mapping does not have
    reason: str = ""  # why it is rejected, when the types alone do not say

    def describe(self) -> str:
        if not self.mapped:
            return f"strict mapping: field {self.field} is not mapped (Sluice sends {self.sent})"
        text = f"field {self.field} is mapped as {self.mapped} but Sluice sends {self.sent}"
        return f"{text}: {self.reason}" if self.reason else text


def mismatch_message(
    index: str, conflicts: Iterable[Conflict], document: str | None = None, limit: int = 5
) -> str:
    """One line for the job's error: which fields do not fit, and the way out."""
    listed = list(conflicts)
    shown = "; ".join(c.describe() for c in listed[:limit])
    if len(listed) > limit:
        shown += f"; and {len(listed) - limit} more"
    seen = f" (seen in {document})" if document else ""
    return (
        f"the index {index} does not fit these documents: {shown}{seen} — sync into a new "
        f"index, or reindex {index} with mappings that fit"
    )


class MappingFit:
    """Judges documents against one index's mappings, remembering what it has judged.

    `settings` are the index's (flat) settings: `index.mapping.ignore_malformed` and
    `index.mapping.coerce` are the defaults of every field's own."""

    def __init__(
        self,
        mappings: Mapping[str, Any],
        *,
        ignore: Iterable[str] = (),
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.root: Mapping[str, Any] = mappings if isinstance(mappings, Mapping) else {}
        self.ignore = frozenset(ignore)  # top-level fields Elasticsearch's mapping never sees
        settings = settings or {}
        self._defaults = {
            "ignore_malformed": _flag(settings.get("index.mapping.ignore_malformed"), False),
            "coerce": _flag(settings.get("index.mapping.coerce"), True),
        }
        self._checked: set[tuple[str, type]] = set()
        self._disabled = self.root.get("enabled") is False  # stores documents unparsed
        self._dynamic = _dynamic(self.root, "true")

    def conflicts(self, doc: Mapping[str, Any]) -> list[Conflict]:
        """The conflicts of `doc` not judged before; [] in one set lookup per field when
        every (field, type) of it was judged already."""
        found: list[Conflict] = []
        if self._disabled:
            return found
        checked, ignore = self._checked, self.ignore
        for key, value in doc.items():
            kind = type(value)
            if kind is not dict and kind is not list and (key, kind) in checked:
                continue  # the hot path
            if key not in ignore:
                self._visit(key, value, _child(self.root, key), self._dynamic, found)
        return found

    def _visit(
        self,
        path: str,
        value: Any,
        mapping: Mapping[str, Any] | None,
        dynamic: str,
        found: list[Conflict],
    ) -> None:
        kind = type(value)
        if kind is list or kind is tuple:
            for item in value:  # Elasticsearch indexes each element (arrays flatten)
                self._visit(path, item, mapping, dynamic, found)
            return
        key = (path, kind)
        if key not in self._checked:
            conflict = _judge(path, value, mapping, dynamic, self._defaults)
            if conflict is not None:
                found.append(conflict)
                return
            self._checked.add(key)
        if isinstance(value, dict) and mapping is not None and _is_object(mapping):
            if mapping.get("enabled") is False:
                return  # stored as it is, never parsed
            inner = _dynamic(mapping, dynamic)
            for name, item in value.items():
                self._visit(f"{path}.{name}", item, _child(mapping, name), inner, found)


def _judge(
    path: str,
    value: Any,
    mapping: Mapping[str, Any] | None,
    dynamic: str,
    defaults: Mapping[str, bool],
) -> Conflict | None:
    """One value against its field's mapping (None: unmapped); a Conflict, or None."""
    value = _plain(value)
    if value is None:
        return None  # null fits every field
    if mapping is None:
        if dynamic == "strict":
            return Conflict(path, _sent(value), "")
        return None  # dynamic mapping adds it
    if _is_object(mapping):
        if isinstance(value, Mapping) or mapping.get("enabled") is False:
            return None
        return Conflict(
            path, _sent(value), str(mapping.get("type") or "object"), "an object is expected"
        )
    field_type = str(mapping.get("type") or "")
    if isinstance(value, Mapping):
        if field_type in SCALAR_TYPES:
            return Conflict(path, "an object", field_type)
        return None
    if _flag(mapping.get("ignore_malformed"), defaults["ignore_malformed"]):
        return None
    reason: str | None = None
    if field_type in NUMERIC_TYPES:
        reason = _numeric_problem(
            field_type, value, _flag(mapping.get("coerce"), defaults["coerce"])
        )
    elif field_type in DATE_TYPES:
        reason = _date_problem(field_type, value, mapping.get("format"))
    elif field_type == "boolean":
        reason = _boolean_problem(value)
    if reason is None:
        return None
    return Conflict(path, _sent(value), field_type, reason)


def _numeric_problem(field_type: str, value: Any, coerce: bool) -> str | None:
    if isinstance(value, bool):
        return "a boolean is not a number"
    if isinstance(value, str):
        if value == "":
            return None  # an empty string indexes as null
        if not _NUMBER.fullmatch(value):
            if _NUMBER.fullmatch(value.strip().rstrip("dDfF")):
                return None  # Java may read it (padding, a type suffix): not judged
            return "not a number"
        if not coerce:
            return "the field does not coerce strings to numbers (coerce: false)"
        number: float | int = float(value)
        if field_type in INTEGER_RANGES and "." not in value and "e" not in value.lower():
            number = int(value)
        if field_type == "unsigned_long" and math.isfinite(number) and number > -1:
            return None  # its upper bound is not judged for strings
    elif isinstance(value, int | float):
        number = value
        if not coerce and field_type in INTEGER_RANGES and number != int(number):
            return "not a whole number, and the field does not coerce (coerce: false)"
    else:
        return None
    if not math.isfinite(number):
        return f"out of range for {field_type}"
    bounds = INTEGER_RANGES.get(field_type)
    if bounds is not None:
        whole = int(number)  # coercion truncates toward zero
        if not bounds[0] <= whole <= bounds[1]:
            return f"out of range for {field_type}"
    return None


def _date_problem(field_type: str, value: Any, given_format: Any) -> str | None:
    formats = str(given_format or DEFAULT_DATE_FORMAT[field_type]).split("||")
    epoch = any(f in EPOCH_FORMATS for f in formats)
    if isinstance(value, bool):
        return "a boolean is not a date"
    if isinstance(value, int | float):
        return _nanos_problem(field_type, value)  # else read as epoch time, or by the format
    if not isinstance(value, str):
        return None
    if any(f not in ISO_FORMATS and f not in EPOCH_FORMATS for f in formats):
        return None  # a custom format: not judged
    if any(f in ISO_FORMATS for f in formats) and is_iso_date(value):
        return None
    if epoch and (_NUMBER.fullmatch(value) or value.lstrip("+-") in ("NaN", "Infinity")):
        return _nanos_problem(field_type, float(value))  # Java reads NaN and Infinity too
    return f"not a date in the format {'||'.join(formats)}"


def _nanos_problem(field_type: str, epoch: float) -> str | None:
    if field_type == "date_nanos" and not math.isnan(epoch) and not 0 <= epoch < NANOS_MAX_MILLIS:
        return "out of range for date_nanos (1970 to 2262)"
    return None


def is_iso_date(text: str) -> bool:
    match = _ISO_DATE.fullmatch(text)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(g) if g else None for g in match.groups())
    try:
        date(year or 1, month or 1, day or 1)
        time(hour or 0, minute or 0, second or 0)
    except ValueError:
        return False
    return True


def _boolean_problem(value: Any) -> str | None:
    if isinstance(value, bool) or value in ("true", "false", ""):
        return None
    return 'only true, false, "true", "false" and "" are booleans'


def _plain(value: Any) -> Any:
    """The value as the engine serializes it (orjson): dates as ISO strings, enums as their
    value, NaN and infinities as null, anything unknown as its str()."""
    if value is None or isinstance(value, str | bool | int | dict | Mapping):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return _plain(value.value)
    return str(value)


def _sent(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        sample = value if len(value) <= 24 else value[:23] + "…"
        return f'a string ("{sample}")'
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _flag(value: Any, default: bool) -> bool:
    """A boolean mapping parameter or setting (settings come as "true"/"false")."""
    if value is None:
        return default
    return value is True or str(value).lower() == "true"


def _is_object(mapping: Mapping[str, Any]) -> bool:
    kind = mapping.get("type")
    return kind in OBJECT_TYPES or (kind is None and "properties" in mapping)


def _dynamic(mapping: Mapping[str, Any], inherited: str) -> str:
    """The object's `dynamic` setting, inherited from its parent unless it sets its own."""
    own = mapping.get("dynamic")
    return inherited if own is None else str(own).lower()


def _child(mapping: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """The mapping of `name` under an object mapping; a dotted name walks down objects."""
    properties = mapping.get("properties")
    if not isinstance(properties, Mapping):
        return None
    found = properties.get(name)
    if isinstance(found, Mapping):
        return found
    head, dot, rest = name.partition(".")
    if dot:
        parent = properties.get(head)
        if isinstance(parent, Mapping) and _is_object(parent):
            return _child(parent, rest)
    return None
