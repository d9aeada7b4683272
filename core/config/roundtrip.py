"""ruamel.yaml set up to give back what it read: nulls and booleans as written, the file's own
indentation, long lines unwrapped, duplicate keys tolerated (Elastic's loader takes the last)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import ScalarString


class _Verbatim:
    """A null or boolean as written (`null`, `~`, nothing; `False`, `TRUE`): ruamel would
    otherwise rewrite Elastic's `key: null` as `key:` and `False` as `false`."""

    __slots__ = ("tag", "text", "value")

    def __init__(self, tag: str, text: str, value: Any) -> None:
        self.tag, self.text, self.value = tag, text, value


class _Constructor(RoundTripConstructor):
    pass


class _Representer(RoundTripRepresenter):
    pass


def _keep_verbatim(tag: str) -> None:
    standard = RoundTripConstructor.yaml_constructors[tag]

    def construct(self: RoundTripConstructor, node: Any) -> _Verbatim:
        return _Verbatim(tag, node.value, standard(self, node))

    _Constructor.add_constructor(tag, construct)


_NULL_TAG = "tag:yaml.org,2002:null"
_keep_verbatim(_NULL_TAG)
_keep_verbatim("tag:yaml.org,2002:bool")
_Representer.add_representer(
    _Verbatim, lambda self, data: self.represent_scalar(data.tag, data.text)
)
_Representer.add_representer(
    type(None), lambda self, data: self.represent_scalar(_NULL_TAG, "null")
)


def round_trip_yaml(text: str) -> YAML:
    handler = YAML(typ="rt")
    handler.Constructor = _Constructor
    handler.Representer = _Representer
    handler.preserve_quotes = True
    handler.allow_duplicate_keys = True
    handler.width = 4096
    mapping, sequence, offset = detect_indent(text)
    handler.indent(mapping=mapping, sequence=sequence, offset=offset)
    return handler


_KEY_LINE = re.compile(r"^( *)[^\s#\-][^:]*:(\s|$)")
_DASH_LINE = re.compile(r"^( *)-( +)\S")


def detect_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file writes them; Elastic's own
    style (2, 4, 2: `connectors:` / `  - connector_id:`) for a new file."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    mapping = None
    sequence = offset = None
    for index, line in enumerate(lines):
        key = _KEY_LINE.match(line)
        if key and mapping is None and index > 0:
            previous = lines[index - 1]
            parent = len(previous) - len(previous.lstrip())
            indent = len(key.group(1))
            if indent > parent and previous.rstrip().endswith(":"):
                mapping = indent - parent
        dash = _DASH_LINE.match(line)
        if dash and sequence is None and index > 0:
            previous = lines[index - 1]
            parent = len(previous) - len(previous.lstrip())
            if previous.rstrip().endswith(":"):
                offset = max(0, len(dash.group(1)) - parent)
                sequence = offset + 1 + len(dash.group(2))
    mapping = mapping or 2
    if sequence is None:
        offset, sequence = 2, 4
    return mapping, max(sequence, (offset or 0) + 2), offset or 0


def plain(value: Any) -> Any:
    if isinstance(value, _Verbatim):
        return bool(value.value) if value.tag.endswith("bool") else None
    if isinstance(value, Mapping):
        return {str(k) if isinstance(k, ScalarString) else k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, ScalarString):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged
