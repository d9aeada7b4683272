"""The configuration-schema rules shared by every source (Elastic's format)."""

from __future__ import annotations

from typing import Any

import pytest

from sluice.sources.errors import ConfigurationError
from sluice.sources.schema import (
    FIELD_ATTRIBUTES,
    LONG_MAX,
    LONG_MIN,
    coerce_value,
    complete_schema,
    field_value,
    is_configuration,
    merge_values,
    redacted,
    typed_values,
    validate_configuration,
    visible_fields,
)


def field(**attributes: Any) -> dict[str, Any]:
    return {"label": "Field", "type": "str", "value": "", **attributes}


def errors_for(**entries: dict[str, Any]) -> dict[str, str]:
    return validate_configuration(complete_schema(entries))


def test_complete_schema_fills_every_attribute_with_elastic_defaults():
    schema = complete_schema({"host": {"label": "Host"}, "port": {"type": "int"}})
    for entry in schema.values():
        assert set(entry) == set(FIELD_ATTRIBUTES)
    assert schema["host"]["required"] is True
    assert schema["port"]["label"] == "PORT"


def test_required_field_with_empty_value_names_the_label():
    errors = errors_for(host=field(label="Host", required=True, value=""))
    assert errors == {"host": "'Host' is required."}
    # A list of blanks is empty too.
    assert errors_for(t=field(label="Tables", type="list", value=" , ,"))["t"] == (
        "'Tables' is required."
    )


def test_optional_empty_field_uses_default_value_and_is_valid():
    schema = complete_schema(
        {"size": field(label="Size", type="int", required=False, value="", default_value=50)}
    )
    assert validate_configuration(schema) == {}
    assert field_value(schema, "size") == 50


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("int", "abc", "'Port' must be a whole number (got 'abc')."),
        ("int", True, "'Port' must be a whole number (got True)."),
        ("int", 2.5, "'Port' must be a whole number (got 2.5)."),
        ("bool", "maybe", "'Port' must be true or false (got 'maybe')."),
    ],
)
def test_type_errors(kind: str, value: Any, message: str):
    assert errors_for(port=field(label="Port", type=kind, value=value)) == {"port": message}


def test_types_convert_from_ui_strings():
    schema = complete_schema(
        {
            "port": field(type="int", value="5432"),
            "on": field(type="bool", value="false"),
            "tables": field(type="list", value=" a, b ,,c "),
            "name": field(value="x"),
        }
    )
    assert validate_configuration(schema) == {}
    assert typed_values(schema) == {
        "port": 5432,
        "on": False,
        "tables": ["a", "b", "c"],
        "name": "x",
    }


def test_less_than_and_greater_than():
    rules = [{"type": "greater_than", "constraint": 0}, {"type": "less_than", "constraint": 65536}]
    assert errors_for(p=field(label="Port", type="int", value=70000, validations=rules)) == {
        "p": "'Port' must be less than 65536 (got 70000)."
    }
    assert errors_for(p=field(label="Port", type="int", value=0, validations=rules)) == {
        "p": "'Port' must be greater than 0 (got 0)."
    }
    assert errors_for(p=field(label="Port", type="int", value=443, validations=rules)) == {}


def test_list_type():
    rule = [{"type": "list_type", "constraint": "int"}]
    assert errors_for(ids=field(label="Ids", type="list", value="1, 2,3", validations=rule)) == {}
    assert errors_for(ids=field(label="Ids", type="list", value="1,x", validations=rule)) == {
        "ids": "'Ids' must list whole numbers (got 'x')."
    }
    assert errors_for(n=field(label="Name", type="str", value="a", validations=rule)) == {
        "n": "'Name' must be a comma-separated list."
    }


def test_included_in_for_values_and_lists():
    rule = [{"type": "included_in", "constraint": ["full", "incremental"]}]
    assert errors_for(m=field(label="Mode", value="full", validations=rule)) == {}
    assert errors_for(m=field(label="Mode", value="partial", validations=rule)) == {
        "m": "'Mode' must be one of: full, incremental (got 'partial')."
    }
    assert errors_for(m=field(label="Modes", type="list", value="full,bad", validations=rule)) == {
        "m": "'Modes' must be one of: full, incremental (got 'bad')."
    }


def test_regex_is_a_full_match():
    rule = [{"type": "regex", "constraint": r"[a-z]+"}]
    assert errors_for(s=field(label="Slug", value="abc", validations=rule)) == {}
    assert errors_for(s=field(label="Slug", value="abc1", validations=rule)) == {
        "s": "'Slug' does not match the expected format [a-z]+ (got 'abc1')."
    }


def test_sensitive_values_never_appear_in_messages():
    rule = [{"type": "regex", "constraint": r"\d+"}]
    errors = errors_for(
        pw=field(label="Password", value="hunter2", sensitive=True, validations=rule)
    )
    assert "hunter2" not in errors["pw"]
    assert errors["pw"].startswith("'Password' does not match")


def test_unknown_validation_type_is_reported():
    errors = errors_for(
        x=field(label="X", value="a", validations=[{"type": "odd", "constraint": 1}])
    )
    assert "unknown validation type 'odd'" in errors["x"]


def ssl_schema(enabled: Any) -> dict[str, dict[str, Any]]:
    return complete_schema(
        {
            "ssl_enabled": field(label="Enable SSL", type="bool", value=enabled, order=2),
            "ssl_ca": field(
                label="SSL certificate",
                value="",
                order=3,
                depends_on=[{"field": "ssl_enabled", "value": True}],
            ),
            "host": field(label="Host", value="db", order=1),
        }
    )


def test_depends_on_hides_and_skips_validation():
    hidden = ssl_schema(False)
    assert visible_fields(hidden) == ["host", "ssl_enabled"]
    assert validate_configuration(hidden) == {}
    shown = ssl_schema(True)
    assert visible_fields(shown) == ["host", "ssl_enabled", "ssl_ca"]
    assert validate_configuration(shown) == {"ssl_ca": "'SSL certificate' is required."}


def test_depends_on_compares_typed_values():
    # "true" typed in a UI is the boolean True once converted.
    assert "ssl_ca" in visible_fields(ssl_schema("true"))


def test_depends_on_all_must_match_and_missing_field_is_reported():
    schema = complete_schema(
        {
            "a": field(type="bool", value=True),
            "b": field(value="x"),
            "c": field(
                label="C",
                value="",
                depends_on=[{"field": "a", "value": True}, {"field": "b", "value": "y"}],
            ),
            "d": field(label="D", value="", depends_on=[{"field": "nope", "value": 1}]),
        }
    )
    assert "c" not in visible_fields(schema)
    errors = validate_configuration(schema)
    assert "c" not in errors
    assert "depends on 'nope'" in errors["d"]


def test_visible_fields_are_ordered():
    schema = complete_schema({"z": field(order=1), "a": field(order=3), "m": field(order=2)})
    assert visible_fields(schema) == ["z", "m", "a"]


def test_merge_values_plain_and_entries():
    schema = {"host": field(label="Host"), "port": field(type="int", value=5432)}
    merged = merge_values(schema, {"host": "db.local", "port": {"value": 6543}, "other": 1})
    assert merged["host"]["value"] == "db.local" and merged["port"]["value"] == 6543
    assert "other" not in merged
    assert schema["host"]["value"] == ""  # the input is not modified
    with pytest.raises(ConfigurationError) as info:
        merge_values(schema, {"hots": "x"}, strict=True)
    assert "Unknown setting 'hots'" in info.value.field_errors["hots"]


@pytest.mark.parametrize(
    ("entry", "raw", "expected"),
    [
        ({"type": "bool"}, "false", False),
        ({"type": "bool"}, "Yes", True),
        ({"type": "bool"}, "", None),
        ({"type": "int"}, " 42 ", 42),
        ({"type": "int"}, "", None),
        ({"type": "list"}, " a , b,, c", "a,b,c"),
        ({"type": "str"}, " keep spaces ", " keep spaces "),
    ],
)
def test_coerce_value(entry: dict[str, Any], raw: str, expected: Any):
    value = coerce_value(entry, raw)
    assert value == expected and type(value) is type(expected)


def test_coerce_value_rejects_bad_input_naming_the_label():
    with pytest.raises(ValueError, match="'Port' must be a whole number"):
        coerce_value({"type": "int", "label": "Port"}, "fifty")
    with pytest.raises(ValueError, match="'Enable SSL' must be true or false"):
        coerce_value({"type": "bool", "label": "Enable SSL"}, "maybe")


def test_is_configuration_and_redacted():
    assert is_configuration({"a": {"value": 1}, "b": {"label": "B"}})
    assert not is_configuration({"a": 1, "b": "x"})
    assert not is_configuration({})
    shown = redacted(
        complete_schema({"pw": field(value="supersecret", sensitive=True), "u": field(value="bob")})
    )
    assert shown == {"pw": "********", "u": "bob"}


@pytest.mark.parametrize("value", ["99999999999999999999999", 2**63, "-9223372036854775809"])
def test_whole_numbers_outside_what_elasticsearch_stores_are_refused(value: Any):
    message = errors_for(n=field(label="Size", type="int", value=value))["n"]
    assert message.startswith("'Size' is out of range")
    assert f"from {LONG_MIN} to {LONG_MAX}" in message
    with pytest.raises(ValueError, match="'Size' is out of range"):
        coerce_value({"type": "int", "label": "Size"}, "99999999999999999999999")


def test_the_edges_of_the_long_range_are_accepted():
    assert (
        errors_for(a=field(type="int", value=LONG_MAX), b=field(type="int", value=LONG_MIN)) == {}
    )
    ids = errors_for(
        i=field(
            label="Ids",
            type="list",
            value=f"1,{2**64}",
            validations=[{"type": "list_type", "constraint": "int"}],
        )
    )
    assert "out of range" in ids["i"]


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e999"])
def test_numbers_must_be_finite(value: str):
    message = errors_for(r=field(label="Ratio", type="float", value=value))["r"]
    assert "'Ratio' must be a finite number" in message


def test_a_long_input_is_echoed_cut_short():
    value = "7" * 3000 + "x"
    message = errors_for(n=field(label="Port", type="int", value=value))["n"]
    assert message.count("7" * 50) == 1  # once, and cut
    assert "…" in message and len(message) < 120
