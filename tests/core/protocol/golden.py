"""The golden records (tests/golden/records/) and a field-by-field shape comparison.

`shape_problems(ours, golden)` walks both documents together and lists every difference in
shape: a key one has and the other lacks, or a value of another JSON type (null, bool, int,
float, str, list, object). Values themselves are not compared (ids, names and timestamps
differ by nature), except that the comparison descends into objects and list items. Two
kinds of maps are compared by their entries' shape instead of by key: a configuration
(`{field key: schema entry}`, whose keys depend on the source) and opaque values (cursors,
`metadata`, an advanced snippet's `value`), checked for their type only.

Deliberate differences are passed in, each as a path (a tuple of keys) in `extra` (keys
Sluice may add, with a reference value whose type they must have, or None for "any object")
and `missing` (golden keys Sluice may leave out).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

RECORDS = Path(ROOT) / "tests" / "golden" / "records"
ORIGIN = {"X-elastic-product-origin": "connectors"}

Path_ = tuple[str, ...]

#: Maps whose keys are a source's field keys: compared entry by entry against a template.
CONFIGURATION_PATHS = {("configuration",), ("connector", "configuration")}
#: Values only the writer understands: their JSON type is all that is compared.
OPAQUE_KEYS = {"sync_cursor", "connector.sync_cursor", "metadata", "sluice"}
#: A configuration entry's attributes and the JSON types Elastic gives them.
ENTRY_TYPES: dict[str, set[str]] = {
    "default_value": {"null", "str", "int", "float", "bool", "list"},
    "depends_on": {"list"},
    "display": {"str"},
    "label": {"str"},
    "options": {"list"},
    "order": {"int"},
    "required": {"bool"},
    "sensitive": {"bool"},
    "tooltip": {"null", "str"},
    "type": {"str"},
    "ui_restrictions": {"list"},
    "validations": {"list"},
    "value": {"null", "str", "int", "float", "bool", "list"},
}


def names() -> list[str]:
    return sorted(path.name for path in RECORDS.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    """The file as it is: `{_index, _id, _source}` for index records, an API body else."""
    return json.loads((RECORDS / name).read_text())


def record(name: str) -> tuple[str, dict[str, Any]]:
    """(id, stored document) of a golden record, whichever form its file has."""
    data = load(name)
    if "_source" in data:
        return str(data["_id"]), copy.deepcopy(data["_source"])
    body = copy.deepcopy(data)
    return str(body.pop("id")), body


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def shape_problems(
    ours: Any,
    golden: Any,
    *,
    extra: Mapping[Path_, Any] | None = None,
    missing: set[Path_] | frozenset[Path_] = frozenset(),
) -> list[str]:
    """Every shape difference between `ours` and `golden`, as `path: problem` lines."""
    problems: list[str] = []
    _compare(ours, golden, (), dict(extra or {}), set(missing), problems)
    return problems


def _where(path: Path_) -> str:
    return ".".join(path) or "(document)"


def _compare(
    ours: Any,
    golden: Any,
    path: Path_,
    extra: dict[Path_, Any],
    missing: set[Path_],
    problems: list[str],
) -> None:
    got, want = json_type(ours), json_type(golden)
    if got != want:
        problems.append(f"{_where(path)}: {got} where the golden record has {want}")
        return
    if path and path[-1] in OPAQUE_KEYS:
        return
    if path in CONFIGURATION_PATHS:
        _compare_configuration(ours, golden, path, problems)
        return
    if path and path[-1] == "value" and len(path) >= 2 and path[-2] == "advanced_snippet":
        return
    if want == "object":
        for key in sorted(set(golden) - set(ours)):
            if (*path, key) not in missing:
                problems.append(f"{_where((*path, key))}: missing (the golden record has it)")
        for key in sorted(set(ours) - set(golden)):
            if (*path, key) in extra:
                reference = extra[(*path, key)]
                if reference is not None:
                    _compare(ours[key], reference, (*path, key), extra, missing, problems)
                elif json_type(ours[key]) != "object":
                    problems.append(f"{_where((*path, key))}: expected an object")
            else:
                problems.append(f"{_where((*path, key))}: not in the golden record")
        for key in sorted(set(ours) & set(golden)):
            _compare(ours[key], golden[key], (*path, key), extra, missing, problems)
    elif want == "list" and golden and ours:
        for index, item in enumerate(ours):
            template = golden[min(index, len(golden) - 1)]
            _compare(item, template, (*path, f"[{index}]"), extra, missing, problems)


def _compare_configuration(
    ours: Mapping[str, Any], golden: Mapping[str, Any], path: Path_, problems: list[str]
) -> None:
    """Field keys differ between sources; every entry must have the attributes of Elastic's
    entries, each of the type Elastic gives it."""
    attributes = set().union(*(set(entry) for entry in golden.values())) if golden else set()
    for key, entry in ours.items():
        where = (*path, key)
        if json_type(entry) != "object":
            problems.append(f"{_where(where)}: {json_type(entry)} where an entry is an object")
            continue
        for attribute in sorted(attributes - set(entry)):
            problems.append(f"{_where((*where, attribute))}: missing (Elastic's entries have it)")
        for attribute in sorted(set(entry) - attributes):
            problems.append(f"{_where((*where, attribute))}: not an attribute Elastic writes")
        for attribute in sorted(set(entry) & attributes):
            allowed = ENTRY_TYPES.get(attribute)
            kind = json_type(entry[attribute])
            if allowed is not None and kind not in allowed:
                problems.append(f"{_where((*where, attribute))}: {kind}, not {sorted(allowed)}")
