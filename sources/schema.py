"""Elastic's configuration-schema format: completing, merging, coercing and validating it.

A configuration is `{key: entry}` where an entry is a schema field with its `value`
(see the connector protocol reference). The same rules as Elastic's service apply:
- `required` defaults to true; a required field uses its `value` only, an optional empty
  field falls back to `default_value`;
- a field whose `depends_on` is not met is neither shown nor validated;
- `list` values are comma-separated strings in the UI and lists once read;
- the five validation types: less_than, greater_than, list_type, included_in, regex
  (full match).
Messages name the field by its label and never echo a sensitive value.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sluice.core.echo import quoted
from sluice.core.secrets import mask
from sluice.sources.errors import ConfigurationError

FIELD_ATTRIBUTES: dict[str, Any] = {
    "label": "",
    "type": "str",
    "display": "text",
    "options": [],
    "depends_on": [],
    "validations": [],
    "required": True,
    "sensitive": False,
    "default_value": None,
    "value": "",
    "order": 1,
    "tooltip": None,
    "ui_restrictions": [],
}
VALIDATION_TYPES = ("less_than", "greater_than", "list_type", "included_in", "regex")
#: Elasticsearch stores integers as `long`: a value outside this range is refused at index time.
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


# ------------------------------------------------------------------ shape


def complete_entry(key: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry with every schema attribute present (Elastic's defaults fill the gaps;
    a missing label becomes the key in capitals, as Elastic does)."""
    full = copy.deepcopy(FIELD_ATTRIBUTES)
    full.update(copy.deepcopy(dict(entry)))
    if not full.get("label"):
        full["label"] = key.upper()
    return full


def complete_schema(configuration: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every entry completed; the input is not modified."""
    return {key: complete_entry(key, entry) for key, entry in configuration.items()}


def is_configuration(mapping: Mapping[str, Any]) -> bool:
    """True for a schema-with-values map (as stored in a connector record), False for a
    plain `key -> value` map."""
    return bool(mapping) and all(
        isinstance(entry, Mapping) and ("value" in entry or "label" in entry or "type" in entry)
        for entry in mapping.values()
    )


def merge_values(
    schema: Mapping[str, Mapping[str, Any]], values: Mapping[str, Any], *, strict: bool = False
) -> dict[str, dict[str, Any]]:
    """A complete configuration: `schema` with `values` (plain `key -> value`, or entries
    with a `value`) filled in. Unknown keys are ignored, or rejected when `strict`."""
    configuration = complete_schema(schema)
    unknown = [key for key in values if key not in configuration]
    if strict and unknown:
        known = ", ".join(sorted(configuration))
        raise ConfigurationError(
            {key: f"Unknown setting '{key}'. Known settings: {known}." for key in unknown}
        )
    for key, value in values.items():
        if key in configuration:
            if isinstance(value, Mapping):
                if "value" not in value:
                    continue
                value = value["value"]
            configuration[key]["value"] = copy.deepcopy(value)
    return configuration


# ------------------------------------------------------------------ values


def is_empty(value: Any) -> bool:
    """Empty the way Elastic means it: None, "", an empty list or a list of blanks."""
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    if isinstance(value, (list, tuple)):
        return all(item in (None, "") for item in value)
    return False


def convert(entry: Mapping[str, Any], value: Any) -> Any:
    """`value` converted to the entry's type. Raises ValueError with a message that names
    the field by its label. Empty stays empty (None, or [] for lists)."""
    kind = entry.get("type") or "str"
    label = _label(entry)
    if kind == "list":
        return _to_list(entry, value)
    if value is None or value == "":
        return "" if kind == "str" else None
    if kind == "int":
        return _to_int(label, entry, value)
    if kind == "float":
        return _to_float(label, entry, value)
    if kind == "bool":
        return _to_bool(label, entry, value)
    return value if isinstance(value, str) else str(value)


def field_value(configuration: Mapping[str, Mapping[str, Any]], key: str) -> Any:
    """The typed value the source uses: `value`, or `default_value` for an optional field
    left empty. Unconvertible values are returned as they are (validation reports them)."""
    entry = complete_entry(key, configuration[key])
    raw = entry["value"]
    if not entry["required"] and _blank(entry, raw):
        raw = entry["default_value"]
    try:
        return convert(entry, raw)
    except ValueError:
        return raw


def typed_values(configuration: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """`key -> typed value` for every field."""
    return {key: field_value(configuration, key) for key in configuration}


def coerce_value(entry: Mapping[str, Any], raw: str) -> Any:
    """The value to store for text typed by a user (CLI `--set KEY=VALUE`, a TUI input).

    int -> int, bool -> a real JSON boolean (never the string "false", which Elastic's
    service would read as true), list -> a normalised comma-separated string (how Kibana
    stores it), str -> unchanged. Empty input stores an empty value (None for int/bool).
    Raises ValueError naming the field by its label.
    """
    kind = entry.get("type") or "str"
    if kind == "str":
        return raw
    text = raw.strip()
    if kind == "list":
        return ",".join(_to_list(entry, text, typed_items=False))
    if text == "":
        return None
    return convert(entry, text)


# ------------------------------------------------------------------ visibility


def dependencies_satisfied(configuration: Mapping[str, Mapping[str, Any]], key: str) -> bool:
    """True when every `depends_on` of the field matches the (typed) value it names.
    A dependency on a missing field is never satisfied."""
    for dependency in configuration[key].get("depends_on") or []:
        other = dependency.get("field")
        if other not in configuration:
            return False
        if field_value(configuration, other) != dependency.get("value"):
            return False
    return True


def visible_fields(configuration: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Keys of the fields to show (dependencies met), in `order`, ties by key."""
    keys = [key for key in configuration if dependencies_satisfied(configuration, key)]
    return sorted(keys, key=lambda key: (_order(configuration[key]), key))


# ------------------------------------------------------------------ validation


def validate_configuration(configuration: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """`key -> message` for every invalid visible field; empty means valid."""
    errors: dict[str, str] = {}
    for key in configuration:
        entry = complete_entry(key, configuration[key])
        missing = [
            d.get("field") for d in entry["depends_on"] if d.get("field") not in configuration
        ]
        if missing:
            errors[key] = (
                f"{_label(entry)} depends on '{missing[0]}', which is not a setting of this "
                "source. Fix the source's schema."
            )
            continue
        if not dependencies_satisfied(configuration, key):
            continue
        message = _validate_field(entry)
        if message:
            errors[key] = message
    return errors


def _validate_field(entry: Mapping[str, Any]) -> str | None:
    label = _label(entry)
    raw = entry["value"]
    if _blank(entry, raw):
        if entry["required"]:
            return f"{label} is required."
        raw = entry["default_value"]
        if _blank(entry, raw):
            return None
    try:
        value = convert(entry, raw)
    except ValueError as exc:
        return str(exc)
    problems = [p for rule in entry["validations"] if (p := _check_rule(entry, rule, value))]
    return " ".join(problems) or None


def _check_rule(entry: Mapping[str, Any], rule: Mapping[str, Any], value: Any) -> str | None:
    label = _label(entry)
    kind, constraint = rule.get("type"), rule.get("constraint")
    items = value if isinstance(value, list) else [value]
    if kind in ("less_than", "greater_than"):
        for item in items:
            if not _is_number(item):
                return f"{label} must be a number to be compared with {constraint}."
            if kind == "less_than" and not item < constraint:
                return f"{label} must be less than {constraint}{_got(entry, item)}."
            if kind == "greater_than" and not item > constraint:
                return f"{label} must be greater than {constraint}{_got(entry, item)}."
        return None
    if kind == "list_type":
        if not isinstance(value, list):
            return f"{label} must be a comma-separated list."
        wanted = {"int": int, "str": str}.get(str(constraint))
        for item in value:
            if wanted is not None and (not isinstance(item, wanted) or isinstance(item, bool)):
                noun = "whole numbers" if wanted is int else "texts"
                return f"{label} must list {noun}{_got(entry, item)}."
            if wanted is int and not LONG_MIN <= item <= LONG_MAX:
                return (
                    f"{label} lists a number out of range{_got(entry, item)}: use whole "
                    f"numbers from {LONG_MIN} to {LONG_MAX}."
                )
        return None
    if kind == "included_in":
        allowed = list(constraint or [])
        for item in items:
            if item not in allowed:
                choices = ", ".join(str(option) for option in allowed)
                return f"{label} must be one of: {choices}{_got(entry, item)}."
        return None
    if kind == "regex":
        for item in items:
            if not isinstance(item, str):
                return f"{label} must be text to match the pattern {constraint}."
            try:
                matched = re.fullmatch(str(constraint), item)
            except re.error:
                return f"{label} has an invalid validation pattern {constraint!r} in its schema."
            if not matched:
                return (
                    f"{label} does not match the expected format {constraint}{_got(entry, item)}."
                )
        return None
    known = ", ".join(VALIDATION_TYPES)
    return f"{label} has an unknown validation type {kind!r}; use one of {known}."


# ------------------------------------------------------------------ helpers


def _blank(entry: Mapping[str, Any], value: Any) -> bool:
    """Empty, counting a list setting of only commas and spaces as empty."""
    if is_empty(value):
        return True
    return entry.get("type") == "list" and not _to_list(entry, value, typed_items=False)


def _label(entry: Mapping[str, Any]) -> str:
    return f"'{entry.get('label') or 'This field'}'"


def _got(entry: Mapping[str, Any], value: Any) -> str:
    """` (got 'x')`, long values cut short — left out for sensitive fields so secrets never
    reach a message."""
    if entry.get("sensitive"):
        return ""
    return f" (got {quoted(value)})"


def _order(entry: Mapping[str, Any]) -> float:
    order = entry.get("order")
    return order if isinstance(order, (int, float)) and not isinstance(order, bool) else 1


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _to_int(label: str, entry: Mapping[str, Any], value: Any) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value)
    ):
        number = int(value)
    if number is None:
        raise ValueError(f"{label} must be a whole number{_got(entry, value)}.")
    if not LONG_MIN <= number <= LONG_MAX:
        raise ValueError(
            f"{label} is out of range{_got(entry, value)}: use a whole number from "
            f"{LONG_MIN} to {LONG_MAX} (what Elasticsearch can store)."
        )
    return number


def _to_float(label: str, entry: Mapping[str, Any], value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{label} must be a number{_got(entry, value)}.") from None
    if not math.isfinite(number):
        raise ValueError(
            f"{label} must be a finite number{_got(entry, value)}: "
            "infinity and NaN can't be stored."
        )
    return number


def _to_bool(label: str, entry: Mapping[str, Any], value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{label} must be true or false{_got(entry, value)}.")


def _to_list(entry: Mapping[str, Any], value: Any, *, typed_items: bool = True) -> list[Any]:
    if value is None or value == "":
        return []
    items: Iterable[Any]
    if isinstance(value, str):
        items = (item.strip() for item in value.split(","))
    elif isinstance(value, (list, tuple, set)):
        items = (item.strip() if isinstance(item, str) else item for item in value)
    else:
        items = [value]
    result = [item for item in items if item not in (None, "")]
    wants_int = any(
        rule.get("type") == "list_type" and rule.get("constraint") == "int"
        for rule in entry.get("validations") or []
    )
    if typed_items and wants_int:
        result = [
            int(item) if isinstance(item, str) and re.fullmatch(r"[-+]?\d+", item) else item
            for item in result
        ]
    if not typed_items:
        result = [str(item) for item in result]
    return result


def redacted(configuration: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """`key -> value` for logs and displays, sensitive values masked (`core.secrets.mask`)."""
    shown: dict[str, Any] = {}
    for key, entry in configuration.items():
        value = entry.get("value")
        if entry.get("sensitive") and not is_empty(value):
            value = mask(str(value))
        shown[key] = value
    return shown
