"""What the SQL sources share: value conversion, ids, rules, cursors, TLS contexts."""

from __future__ import annotations

import ipaddress
import json
import ssl
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from sluice.sources.database.cursor import decode_mark, encode_mark, later, make_cursor, marks_of
from sluice.sources.database.ids import row_hash_id, row_id
from sluice.sources.database.rules import parse_query_rules, validate_query_rules
from sluice.sources.database.tables import configured_tables, is_wildcard
from sluice.sources.database.tls import client_context
from sluice.sources.database.values import iso_duration, to_json_value
from sluice.sources.errors import ConfigurationError
from tests.sources.helpers import make_certificates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.50"), 12.5),
        (Decimal("0.1"), 0.1),
        (Decimal("12345678901234567890.12345"), "12345678901234567890.12345"),
        (Decimal("NaN"), "NaN"),
        (Decimal("-Infinity"), "-Infinity"),
        (float("inf"), "inf"),
        (
            datetime(2024, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=2))),
            "2024-05-01T10:00:00+02:00",
        ),
        (datetime(2024, 5, 1, 10, 0), "2024-05-01T10:00:00"),
        (date(2024, 2, 29), "2024-02-29"),
        (time(13, 45, 30), "13:45:30"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4.5), "P1DT2H3M4.5S"),
        (b"\xde\xad", "3q0="),
        (memoryview(b"ab"), "YWI="),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (ipaddress.ip_network("10.0.0.0/8"), "10.0.0.0/8"),
        ({"a": [Decimal("1.5"), b"x"]}, {"a": [1.5, "eA=="]}),
        ({3, 1, 2}, [1, 2, 3]),
        (None, None),
        (True, True),
    ],
)
def test_to_json_value(value, expected):
    converted = to_json_value(value)
    assert converted == expected
    json.dumps(converted, allow_nan=False)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(hours=13, minutes=45, seconds=30), "PT13H45M30S"),
        (timedelta(days=3), "P3D"),
        (-timedelta(hours=1), "-PT1H"),
        (timedelta(microseconds=250), "PT0.00025S"),
    ],
)
def test_iso_duration(delta, text):
    assert iso_duration(delta) == text


def test_row_ids_follow_elastic():
    row = {"id": 7, "region": "eu", "x": None}
    assert row_id(["orders"], row, ["id", "region"]) == "orders_7_eu"
    assert row_id(["orders", "customers"], row, ["id"]) == "customers_orders_7"
    assert row_id(["t"], row, ["x", "id"]) == "t_7"  # None keys are left out
    one = row_hash_id(["t"], {"a": 1, "b": "x"})
    assert one == row_hash_id(["t"], {"b": "x", "a": 1}) and one.startswith("t_row_")
    assert one != row_hash_id(["t"], {"a": 2, "b": "x"})


def test_configured_tables():
    assert configured_tables(" a, b ,a,, c") == ["a", "b", "c"]
    assert configured_tables(["x", " y "]) == ["x", "y"]
    assert configured_tables(None) == []
    assert is_wildcard(configured_tables("*")) and not is_wildcard(["*", "a"])


def test_query_rules():
    rules = [{"tables": ["a"], "query": "SELECT 1;", "id_columns": ["id"]}]
    assert validate_query_rules(rules) == []
    assert validate_query_rules(json.dumps(rules)) == []
    parsed = parse_query_rules(rules)[0]
    assert parsed.query == "SELECT 1" and parsed.tables == ("a",) and parsed.id_columns == ("id",)
    assert validate_query_rules([{"tables": "a", "query": "q", "id_columns": []}]) == [
        "Rule 1: 'tables' must be a non-empty list of table names.",
        "Rule 1: 'id_columns' must be a non-empty list of column names.",
    ]
    assert validate_query_rules(["SELECT 1"]) == [
        "Rule 1 must be an object with 'tables' and 'query'."
    ]


def test_cursor_round_trip():
    marks = {
        "public.a": datetime(2024, 1, 1, tzinfo=UTC),
        "public.b": date(2024, 1, 2),
        "public.c": 42,
        "public.d": Decimal("1.5"),
        "public.e": None,
    }
    cursor = make_cursor("updated_at", marks)
    stored = json.loads(json.dumps(cursor))  # as it comes back from the connector record
    assert set(stored["tables"]) == {"public.a", "public.b", "public.c", "public.d"}
    assert marks_of(stored, "updated_at") == {k: v for k, v in marks.items() if v is not None}
    assert marks_of(stored, "modified") == {}
    assert marks_of("garbage", "updated_at") == {}
    assert decode_mark({"type": "datetime", "value": "not a date"}) is None
    assert encode_mark(True) is None
    assert later(None, 3) == 3 and later(5, 3) == 5 and later(5, "x") == 5


def test_tls_context_from_pem_text_single_line_and_path(tmp_path: Path):
    certs = make_certificates(tmp_path, "ca")
    for value in (certs.ca_pem, certs.ca_pem.replace("\n", " "), str(tmp_path / "ca-ca.pem")):
        context = client_context(value)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert any("ca test CA" in str(c.get("subject")) for c in context.get_ca_certs())
    assert client_context("").verify_mode == ssl.CERT_REQUIRED  # the system store


@pytest.mark.parametrize(
    "value",
    ["not a pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
)
def test_tls_context_rejects_bad_values(value):
    with pytest.raises(ConfigurationError) as info:
        client_context(value)
    assert info.value.field_errors["ssl_ca"].startswith("'SSL certificate'")
