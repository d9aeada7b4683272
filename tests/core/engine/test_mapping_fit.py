"""The mapping preflight's rules: a table of mapped types by JSON values, and the same table
indexed into the real server, so every verdict is Elasticsearch's own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from sluice.core.engine.mapping_fit import MappingFit, mismatch_message

#: The mapped types under test, each a field of one strict index.
FIELDS: dict[str, dict[str, Any]] = {
    "long": {"type": "long"},
    "integer": {"type": "integer"},
    "short": {"type": "short"},
    "byte": {"type": "byte"},
    "unsigned_long": {"type": "unsigned_long"},
    "double": {"type": "double"},
    "float": {"type": "float"},
    "half_float": {"type": "half_float"},
    "scaled_float": {"type": "scaled_float", "scaling_factor": 100},
    "long_strict": {"type": "long", "coerce": False},
    "long_lenient": {"type": "long", "ignore_malformed": True},
    "date": {"type": "date"},
    "date_seconds": {"type": "date", "format": "epoch_second"},
    "date_iso": {"type": "date", "format": "strict_date_optional_time"},
    "date_nanos": {"type": "date_nanos"},
    "boolean": {"type": "boolean"},
    "keyword": {"type": "keyword"},
    "text": {"type": "text"},
    "match_only_text": {"type": "match_only_text"},
    "wildcard": {"type": "wildcard"},
    "object": {"type": "object", "properties": {"a": {"type": "keyword"}}},
    "props": {"properties": {"a": {"type": "keyword"}}},
    "nested": {"type": "nested", "properties": {"a": {"type": "keyword"}}},
    "disabled": {"type": "object", "enabled": False},
}

#: JSON values a source may send.
VALUES: list[Any] = [
    0,
    1,
    -3,
    1.5,
    -0.5,
    300,
    2147483648,
    9.3e18,
    1e20,
    "",
    "12",
    "-3",
    "+5",
    ".5",
    "1.5",
    "1e3",
    "2026",
    "20260101",
    "abc",
    "NaN",
    "Infinity",
    "1_000",
    "true",
    "false",
    "TRUE",
    "2026-01-01",
    "2026-01-01T10",
    "2026-01-01T00:00:00+00:00",
    "2026-01-01T10:00:00,5Z",
    "2026-01-01T10:00:00.123456789Z",
    "2026-01-01T10:00:00.1234567891Z",
    "2026-01-01 10:00:00",
    "2026-13-01",
    "2026-02-30",
    "2026-1-1",
    "2026-01-01T24:00:00Z",
    "+2026-01-01",
    True,
    False,
    None,
    {},
    {"a": "x"},
    {"b": 1},
    [],
    [1, 2],
    [1, "abc"],
    ["abc"],
    [{"a": "x"}],
    [[1, 2]],
]

#: Strings Java may read as numbers (padding, a type suffix) although the local server
#: rejects them: not judged, so they "fit" here. Every other verdict must be the server's.
NOT_JUDGED = {" 12 ", "1.5d"}

#: (field, value, fits) — the rules spelt out; the integration test below proves each
#: against the server too.
CASES: list[tuple[str, Any, bool]] = [
    ("float", 1.5, True),
    ("float", "1.5", True),  # coerced
    ("float", "2026-01-01T00:00:00+00:00", False),  # the `dir` index's ctime
    ("float", True, False),
    ("float", {"a": "x"}, False),
    ("long", 1.5, True),  # truncated
    ("long", "", True),  # an empty string is null
    ("long", "abc", False),
    ("long", 9.3e18, False),  # out of range
    ("byte", 300, False),
    ("byte", "1e3", False),
    ("integer", 2147483648, False),
    ("unsigned_long", -3, False),
    ("unsigned_long", -0.5, True),
    ("long_strict", 1.5, False),
    ("long_strict", "12", False),
    ("long_lenient", "abc", True),  # ignore_malformed
    ("long_lenient", {"a": "x"}, False),
    ("date", "2026-01-01T00:00:00+00:00", True),
    ("date", "2026", True),
    ("date", "12", True),  # epoch_millis
    ("date", 1e20, True),
    ("date", "2026-01-01 10:00:00", False),
    ("date", "2026-02-30", False),
    ("date", "", False),
    ("date", True, False),
    ("date_seconds", "2026-01-01", False),
    ("date_iso", "12", False),
    ("date_iso", 12, True),
    ("date_nanos", -3, False),
    ("boolean", "false", True),
    ("boolean", "", True),
    ("boolean", "TRUE", False),
    ("boolean", 1, False),
    ("keyword", 1, True),
    ("keyword", True, True),
    ("keyword", {"a": "x"}, False),
    ("text", [{"a": "x"}], False),
    ("wildcard", ["abc"], True),
    ("object", "x", False),
    ("object", [{"a": "x"}], True),
    ("props", ["abc"], False),
    ("nested", {"a": "x"}, True),
    ("disabled", "anything", True),
    ("keyword", None, True),
    ("long", [1, "abc"], False),
    ("long", [[1, 2]], True),
]


def fits(field: str, value: Any, *, strict: bool = True) -> bool:
    mappings = {"dynamic": "strict" if strict else True, "properties": FIELDS}
    return not MappingFit(mappings).conflicts({field: value})


@pytest.mark.parametrize(("field", "value", "expected"), CASES)
def test_each_rule(field: str, value: Any, expected: bool) -> None:
    assert fits(field, value) is expected


def test_the_conflict_names_the_field_its_type_and_what_is_sent() -> None:
    fit = MappingFit({"properties": {"ctime": {"type": "float"}, "mode": {"type": "long"}}})
    conflicts = fit.conflicts({"ctime": "2026-01-01T10:11:12.123456+00:00", "mode": "rw-r--r--"})
    assert [c.describe() for c in conflicts] == [
        'field ctime is mapped as float but Sluice sends a string ("2026-01-01T10:11:12.123…"): '
        "not a number",
        'field mode is mapped as long but Sluice sends a string ("rw-r--r--"): not a number',
    ]
    message = mismatch_message("search-files", conflicts, "/srv/a.txt")
    assert message.startswith("the index search-files does not fit these documents: field ctime")
    assert message.endswith(
        "(seen in /srv/a.txt) — sync into a new index, or reindex search-files with mappings "
        "that fit"
    )


def test_a_long_list_of_conflicts_is_cut_after_five() -> None:
    fit = MappingFit({"properties": {f"f{i}": {"type": "long"} for i in range(8)}})
    message = mismatch_message("i", fit.conflicts({f"f{i}": "x" for i in range(8)}))
    assert message.count("is mapped as long") == 5 and "; and 3 more" in message


def test_unmapped_fields_fit_unless_the_mapping_is_strict() -> None:
    assert fits("new_field", "x", strict=False)
    (conflict,) = MappingFit({"dynamic": "strict", "properties": {}}).conflicts({"new": 1})
    assert conflict.describe() == (
        "strict mapping: field new is not mapped (Sluice sends a number (1))"
    )
    # `dynamic` is inherited by objects, and an object may set its own
    mappings = {
        "dynamic": "strict",
        "properties": {"meta": {"dynamic": True, "properties": {}}, "fixed": {"properties": {}}},
    }
    fit = MappingFit(mappings)
    assert fit.conflicts({"meta": {"anything": 1}}) == []
    assert [c.field for c in fit.conflicts({"fixed": {"x": 1}})] == ["fixed.x"]


def test_nested_and_dotted_fields_are_judged_by_their_path() -> None:
    fit = MappingFit({"properties": {"meta": {"properties": {"size": {"type": "long"}}}}})
    assert [c.field for c in fit.conflicts({"meta": {"size": "big"}})] == ["meta.size"]
    assert [c.field for c in fit.conflicts({"meta.size": "big"})] == ["meta.size"]
    assert fit.conflicts({"meta": [{"size": 3}, {"other": "x"}]}) == []


def test_values_are_judged_as_the_engine_serializes_them() -> None:
    fit = MappingFit({"properties": {"at": {"type": "date"}, "n": {"type": "long"}}})
    assert fit.conflicts({"at": datetime(2026, 1, 1, tzinfo=UTC)}) == []
    assert fit.conflicts({"at": datetime(2026, 1, 1)}) == []  # ISO without a zone
    assert fit.conflicts({"n": float("nan")}) == []  # serialized as null


def test_each_field_and_type_is_judged_once() -> None:
    """The per-document cost: after the first value of a (field, type), no judging."""
    fit = MappingFit({"properties": {"when": {"type": "date"}}})
    assert fit.conflicts({"when": "2026-01-01", "title": "a"}) == []
    assert fit.conflicts({"when": "not a date", "title": "b"}) == []  # a string was judged
    assert [c.field for c in fit.conflicts({"when": True})] == ["when"]  # a new type


def test_a_pipeline_attachment_is_not_judged() -> None:
    mappings = {"dynamic": "strict", "properties": {"title": {"type": "text"}}}
    assert MappingFit(mappings, ignore=("_attachment",)).conflicts({"_attachment": "QUJD"}) == []
    assert MappingFit(mappings).conflicts({"_attachment": "QUJD"}) != []


def test_index_settings_are_the_fields_defaults() -> None:
    mappings = {"properties": {"n": {"type": "long"}, "m": {"type": "long", "coerce": True}}}
    lenient = {"index.mapping.ignore_malformed": "true"}
    assert MappingFit(mappings, settings=lenient).conflicts({"n": "abc"}) == []
    strict = MappingFit(mappings, settings={"index.mapping.coerce": "false"})
    assert [c.field for c in strict.conflicts({"n": "12", "m": "12"})] == ["n"]


def test_a_disabled_root_takes_anything() -> None:
    assert MappingFit({"enabled": False}).conflicts({"x": {"y": 1}}) == []


@pytest.mark.es
async def test_every_verdict_is_the_servers(es) -> None:
    """Each (type, value) indexed for real: a conflict is always a rejection, and a fit an
    acceptance (but for the strings documented as not judged)."""
    index = f"sluice-test-fit-{uuid.uuid4().hex[:8]}"
    mappings = {"dynamic": "strict", "properties": FIELDS}
    await es.indices.create(index=index, mappings=mappings)
    try:
        cases = [(f, v) for f in FIELDS for v in [*VALUES, *NOT_JUDGED]]
        cases += [(f, v) for f, v, _ in CASES]
        cases += [("unmapped", 1), ("object", {"a": "x", "new": 1})]
        body = b"".join(
            orjson.dumps({"index": {"_index": index}}) + b"\n" + orjson.dumps({f: v}) + b"\n"
            for f, v in cases
        )
        response = await es.bulk(operations=body)
        wrong = []
        for (field, value), item in zip(cases, response["items"], strict=True):
            accepted = item["index"]["status"] < 300
            verdict = not MappingFit(mappings).conflicts({field: value})
            if verdict != accepted and not (isinstance(value, str) and value in NOT_JUDGED):
                wrong.append((field, value, "fits" if verdict else "conflict", item["index"]))
        assert not wrong, wrong
        assert len(cases) > 1000
    finally:
        await es.options(ignore_status=404).indices.delete(index=index)
