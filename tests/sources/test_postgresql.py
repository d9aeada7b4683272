"""The `postgresql` source against the real PostgreSQL server (SLUICE_PG_URL).

The module creates its own database (and a restricted role) and drops them at the end."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import psutil
import pytest
from sluice.core.engine.engine import SyncEngine, SyncRequest
from sluice.core.engine.failures import FailureLog, read_failures
from sluice.core.engine.source import Operation
from sluice.sources.errors import (
    AdvancedRulesError,
    AuthenticationError,
    ConfigurationError,
    DatabaseNotFoundError,
    HostUnreachableError,
    InsufficientPrivilegesError,
    SourceError,
    TableNotFoundError,
    TLSError,
)
from sluice.sources.postgresql import PostgreSQLSource

from tests.conftest import service_url
from tests.sources.helpers import FakeTLSServer, free_port, make_certificates, parse_url

pytestmark = pytest.mark.pg

SUFFIX = uuid.uuid4().hex[:10]
DATABASE = f"sluice_src_{SUFFIX}"
READER = f"sluice_ro_{SUFFIX}"
READER_PASSWORD = "reader-pass-1"
BIG_ROWS = 100_000

SEED = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE all_types (
    id bigint PRIMARY KEY, small smallint, big bigint, price numeric(20,5), huge numeric,
    nan_num numeric, ratio real, dbl double precision, flag boolean, label varchar(50),
    letter char(3), body text, raw bytea, day date, clock time, clock_tz timetz,
    at_local timestamp, at_utc timestamptz, span interval, uid uuid, doc json, docb jsonb,
    ints int[], words text[], pt point, ln line, seg lseg, bx box, pth path, poly polygon,
    circ circle, ip inet, net cidr, mac macaddr, bits bit(8), vbits varbit, x xml,
    rng int4range, m mood, cash money
);
INSERT INTO all_types VALUES (
    1, -32768, 9223372036854775807, 12345.67891, 123456789012345678901234567890.123,
    'NaN', 1.5, 'Infinity', true, 'label é', 'ab', 'long body ✓', '\\xdeadbeef',
    '2024-02-29', '13:45:30', '13:45:30+02', '2024-05-01 10:00:00',
    '2024-05-01 10:00:00+02', '1 day 2 hours 3 minutes 4.5 seconds',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2], "b": null}', '{"k": {"n": 1.5}}',
    '{1,2,3}', '{"a","b c"}', '(1.5,2)', '{1,-1,0}', '[(0,0),(1,1)]', '((2,2),(0,0))',
    '[(0,0),(1,1),(2,0)]', '((0,0),(1,1),(1,0))', '<(1,1),2>', '192.168.1.5/24', '10.0.0.0/8',
    '08:00:2b:01:02:03', B'10101010', B'101', '<a>x</a>', '[1,10)', 'happy', 12.34
);
INSERT INTO all_types (id) VALUES (2);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total numeric(10,2),
                     updated_at timestamptz NOT NULL);
CREATE TABLE customers (id int PRIMARY KEY, name text);
INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace');
INSERT INTO orders VALUES (1, 1, 10.50, '2024-01-01 00:00:00+00'),
                          (2, 2, 20.00, '2024-01-02 00:00:00+00'),
                          (3, 1, 30.25, '2024-01-03 00:00:00+00');
CREATE TABLE events (happened date, what text);
INSERT INTO events VALUES ('2024-01-01', 'same'), ('2024-01-01', 'same'), ('2024-01-02', 'other');
CREATE TABLE secret (id int PRIMARY KEY, value text);
CREATE TABLE "Mixed Case" (id int PRIMARY KEY, "Value" text);
INSERT INTO "Mixed Case" VALUES (1, 'quoted');
CREATE TABLE parted (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');
INSERT INTO parted VALUES (1, 'eu'), (2, 'us');
CREATE TABLE big (id int PRIMARY KEY, payload text);
INSERT INTO big SELECT g, repeat(md5(g::text), 32) FROM generate_series(1, 100000) g;
CREATE SCHEMA other;
CREATE TABLE other.things (id int PRIMARY KEY);
"""


def admin_url() -> str:
    return service_url("SLUICE_PG_URL", "postgresql://sluice:sluice@127.0.0.1:35432/sluice")


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    async def setup() -> None:
        admin = await asyncpg.connect(admin_url())
        try:
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
            await admin.execute(f"CREATE ROLE {READER} LOGIN PASSWORD '{READER_PASSWORD}'")
        finally:
            await admin.close()
        server = parse_url(admin_url())
        conn = await asyncpg.connect(
            host=server.host, port=server.port, user=server.user,
            password=server.password, database=DATABASE,
        )  # fmt: skip
        try:
            await conn.execute(SEED)
            await conn.execute(f"GRANT SELECT ON all_types, orders TO {READER}")
        finally:
            await conn.close()

    async def teardown() -> None:
        admin = await asyncpg.connect(admin_url())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            await admin.execute(f"DROP ROLE IF EXISTS {READER}")
        finally:
            await admin.close()

    try:
        asyncio.run(setup())
        yield DATABASE
    finally:
        asyncio.run(teardown())


def config(database: str, **overrides: Any) -> dict[str, Any]:
    server = parse_url(admin_url())
    values: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "username": server.user,
        "password": server.password,
        "database": database,
        "schema": "public",
        "tables": "*",
        "retry_count": 0,
        "connect_timeout": 5,
    }
    values.update(overrides)
    return values


async def docs_of(configuration: dict[str, Any], filtering: Any = None) -> list[dict[str, Any]]:
    async with PostgreSQLSource(configuration) as source:
        return [doc async for doc in source.get_docs(filtering)]


# ---------------------------------------------------------------- documents


async def test_every_column_type_is_converted(database: str):
    docs = {d["_id"]: d for d in await docs_of(config(database, tables="all_types"))}
    assert set(docs) == {f"{database}_public_all_types_1", f"{database}_public_all_types_2"}
    doc = {
        k.removeprefix("public_all_types_"): v
        for k, v in docs[f"{database}_public_all_types_1"].items()
    }
    expected = {
        "id": 1, "small": -32768, "big": 9223372036854775807,
        "price": 12345.67891, "huge": "123456789012345678901234567890.123", "nan_num": "NaN",
        "ratio": 1.5, "dbl": "inf", "flag": True, "label": "label é", "letter": "ab ",
        "body": "long body ✓", "raw": base64.b64encode(bytes.fromhex("deadbeef")).decode(),
        "day": "2024-02-29", "clock": "13:45:30", "clock_tz": "13:45:30+02:00",
        "at_local": "2024-05-01T10:00:00", "at_utc": "2024-05-01T08:00:00+00:00",
        "span": "P1DT2H3M4.5S", "uid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "doc": {"a": [1, 2], "b": None}, "docb": {"k": {"n": 1.5}}, "ints": [1, 2, 3],
        "words": ["a", "b c"], "pt": "(1.5,2)", "ln": "{1,-1,0}", "seg": "((0,0),(1,1))",
        "bx": "((2,2),(0,0))", "pth": "[(0,0),(1,1),(2,0)]", "poly": "((0,0),(1,1),(1,0))",
        "circ": "<(1,1),2>", "ip": "192.168.1.5/24", "net": "10.0.0.0/8",
        "mac": "08:00:2b:01:02:03", "bits": "10101010", "vbits": "101", "x": "<a>x</a>",
        "rng": "[1,10)", "m": "happy",
    }  # fmt: skip
    for key, value in expected.items():
        assert doc[key] == value, key
    assert "12.34" in doc["cash"]
    assert doc["database"] == database and doc["table"] == "all_types" and doc["schema"] == "public"
    empty = docs[f"{database}_public_all_types_2"]
    assert empty["public_all_types_body"] is None and empty["public_all_types_ints"] is None


async def test_wildcard_reads_tables_not_partitions(database: str):
    docs = await docs_of(config(database, tables="*"))
    tables = {doc["table"] for doc in docs}
    assert tables == {
        "all_types",
        "orders",
        "customers",
        "events",
        "Mixed Case",
        "parted",
        "big",
    }
    assert sum(1 for d in docs if d["table"] == "parted") == 2  # not again via partitions
    # ("secret" is empty, "other.things" is in another schema)


async def test_quoted_table_names_and_other_schema(database: str):
    docs = await docs_of(config(database, tables="Mixed Case"))
    assert docs[0]["public_mixed case_value"] == "quoted"
    assert docs[0]["_id"] == f"{database}_public_Mixed Case_1"
    docs = await docs_of(config(database, schema="other"))
    assert [d["_id"] for d in docs] == []  # empty table, schema honoured


async def test_table_without_primary_key(database: str):
    docs = await docs_of(config(database, tables="events"))
    ids = [doc["_id"] for doc in docs]
    assert len(ids) == 3 and len(set(ids)) == 2  # identical rows share an id
    assert all(i.startswith(f"{database}_public_events_row_") for i in ids)


async def test_big_table_streams_with_flat_memory(database: str):
    process = psutil.Process()
    count = 0
    baseline = peak = 0
    async with PostgreSQLSource(config(database, tables="big", fetch_size=500)) as source:
        started = asyncio.get_running_loop().time()
        async for doc in source.get_docs():
            count += 1
            if count == 1000:
                baseline = peak = process.memory_info().rss
            elif count % 5000 == 0:
                peak = max(peak, process.memory_info().rss)
            assert len(doc["public_big_payload"]) == 1024
        elapsed = asyncio.get_running_loop().time() - started
    growth = (peak - baseline) / 2**20
    print(f"\npostgresql: {count} rows in {elapsed:.1f}s, RSS growth {growth:.1f} MiB")
    assert count == BIG_ROWS
    # The rows are ~100 MiB of text: buffering them would grow RSS far beyond this bound.
    assert growth < 40, f"RSS grew by {growth:.1f} MiB while streaming"


# ---------------------------------------------------------------- incremental


async def test_incremental_sync_from_modification_column(database: str):
    server = parse_url(admin_url())
    conn = await asyncpg.connect(
        host=server.host, port=server.port, user=server.user, password=server.password,
        database=database,
    )  # fmt: skip
    source = PostgreSQLSource(
        config(database, tables="orders,customers", modified_column="updated_at")
    )
    assert source.supports_incremental_sync()
    try:
        first = [pair async for pair in source.get_docs_incrementally(None)]
        assert {op for _, op in first} == {Operation.INDEX}
        assert len(first) == 5  # 3 orders + 2 customers (no such column: read in full)
        cursor = source.sync_cursor
        assert cursor["tables"]["public.orders"] == {
            "type": "datetime", "value": "2024-01-03T00:00:00+00:00",
        }  # fmt: skip
        order_1 = next(d for d, _ in first if d["_id"].endswith("orders_1"))
        assert order_1["_timestamp"] == "2024-01-01T00:00:00+00:00"

        await conn.execute(
            "UPDATE orders SET total = 11, updated_at = '2024-02-01+00' WHERE id = 1"
        )
        await conn.execute("INSERT INTO orders VALUES (4, 2, 5, '2024-02-02+00')")
        second = [doc async for doc, _ in source.get_docs_incrementally(cursor)]
        orders = sorted(d["_id"].rsplit("_", 1)[1] for d in second if d["table"] == "orders")
        assert orders == ["1", "3", "4"]  # changed, new, and the boundary row (>=)
        assert source.sync_cursor["tables"]["public.orders"]["value"] == "2024-02-02T00:00:00+00:00"
        # A cursor made for another column is ignored: everything is read again.
        other = PostgreSQLSource(config(database, tables="orders", modified_column="updated_at"))
        again = [
            d async for d, _ in other.get_docs_incrementally({"modified_column": "x", "tables": {}})
        ]
        assert len(again) == 4
    finally:
        await conn.execute("DELETE FROM orders WHERE id = 4")
        await conn.execute(
            "UPDATE orders SET total = 10.50, updated_at = '2024-01-01+00' WHERE id = 1"
        )
        await conn.close()


# ---------------------------------------------------------------- advanced rules


RULES = [
    {
        "tables": ["orders", "customers"],
        "query": "SELECT o.id, c.name, o.total FROM orders o "
        "JOIN customers c ON c.id = o.customer_id",
        "id_columns": ["id"],
    }
]


async def test_advanced_rules_custom_query(database: str):
    filtering = {"advanced_snippet": {"value": RULES}, "rules": []}
    docs = await docs_of(config(database, tables="all_types"), filtering)
    assert sorted(d["_id"] for d in docs) == [
        f"{database}_public_customers_orders_{n}" for n in (1, 2, 3)
    ]
    ada = next(d for d in docs if d["_id"].endswith("_1"))
    assert ada["public_customers_orders_name"] == "Ada"
    assert ada["table"] == ["orders", "customers"]


async def test_advanced_rules_validation(database: str):
    source = PostgreSQLSource(config(database))
    assert source.advanced_rules_validate(RULES) == []
    problems = source.advanced_rules_validate([{"tables": [], "query": "", "extra": 1}])
    assert problems == [
        "Rule 1 has unknown keys extra; allowed: tables, query, id_columns.",
        "Rule 1: 'tables' must be a non-empty list of table names.",
        "Rule 1: 'query' must be a non-empty SQL text.",
    ]
    assert "not valid JSON" in source.advanced_rules_validate("[{")[0]
    remote = await source.validate_advanced_rules(
        [{"tables": ["nope"], "query": "SELEC 1"}, RULES[0]]
    )
    assert remote[0] == "Rule 1: tables not found: nope."
    assert remote[1].startswith("Rule 1: the query is refused by PostgreSQL: syntax error")
    assert len(remote) == 2
    with pytest.raises(AdvancedRulesError, match="'tables' must be"):
        await docs_of(config(database), {"advanced_snippet": {"value": [{"query": "SELECT 1"}]}})


async def test_custom_queries_cannot_write(database: str):
    rule = [
        {"tables": ["customers"], "query": "UPDATE customers SET name = 'x' RETURNING id, name"}
    ]
    with pytest.raises(SourceError, match="read-only transaction"):
        await docs_of(config(database), {"advanced_snippet": {"value": rule}})
    names = [
        d["public_customers_name"] for d in await docs_of(config(database, tables="customers"))
    ]
    assert sorted(names) == ["Ada", "Grace"]


async def test_missing_id_columns_in_query_result(database: str):
    rule = [{"tables": ["customers"], "query": "SELECT name FROM customers"}]
    with pytest.raises(AdvancedRulesError, match="returns no column id"):
        await docs_of(config(database), {"advanced_snippet": {"value": rule}})


# ---------------------------------------------------------------- distinct errors


async def test_valid_configuration_passes(database: str):
    source = PostgreSQLSource(config(database, tables="orders, customers"))
    await source.ping()
    await source.validate_config()


async def test_unreachable_port(database: str):
    source = PostgreSQLSource(config(database, port=free_port()))
    with pytest.raises(HostUnreachableError) as info:
        await source.ping()
    assert "Nothing accepts connections at 127.0.0.1:" in str(info.value)
    assert info.value.fields == ("host", "port")
    with pytest.raises(HostUnreachableError):
        await source.validate_config()


async def test_wrong_password(database: str):
    source = PostgreSQLSource(config(database, password="definitely-wrong"))
    with pytest.raises(AuthenticationError) as info:
        await source.ping()
    assert "rejected the password of user" in str(info.value)
    assert "definitely-wrong" not in str(info.value)
    assert set(info.value.field_errors) == {"username", "password"}


async def test_missing_database():
    source = PostgreSQLSource(config(f"nope_{SUFFIX}"))
    with pytest.raises(DatabaseNotFoundError, match=f"database 'nope_{SUFFIX}' does not exist"):
        await source.ping()


async def test_missing_schema(database: str):
    with pytest.raises(DatabaseNotFoundError, match="schema 'ghost' does not exist") as info:
        await PostgreSQLSource(config(database, schema="ghost")).validate_config()
    assert info.value.fields == ("schema",)


async def test_missing_table(database: str):
    source = PostgreSQLSource(config(database, tables="orders, ghosts"))
    with pytest.raises(TableNotFoundError, match=r"not found: public\.ghosts") as info:
        await source.validate_config()
    assert info.value.fields == ("tables",)
    with pytest.raises(TableNotFoundError):  # a sync fails instead of deleting documents
        await docs_of(config(database, tables="orders, ghosts"))


async def test_missing_privileges_on_tables(database: str):
    reader = config(database, username=READER, password=READER_PASSWORD, tables="orders")
    await PostgreSQLSource(reader).validate_config()  # granted
    with pytest.raises(InsufficientPrivilegesError) as info:
        await PostgreSQLSource({**reader, "tables": "orders, secret"}).validate_config()
    assert f"User '{READER}' may not read table(s) secret" in str(info.value)
    assert "GRANT SELECT ON ALL TABLES IN SCHEMA" in str(info.value)
    with pytest.raises(InsufficientPrivilegesError, match="customers"):
        await PostgreSQLSource({**reader, "tables": "*"}).validate_config()


async def test_missing_connect_privilege(database: str):
    server = parse_url(admin_url())
    conn = await asyncpg.connect(
        host=server.host, port=server.port, user=server.user, password=server.password,
        database=database,
    )  # fmt: skip
    await conn.execute(f'REVOKE CONNECT ON DATABASE "{database}" FROM PUBLIC')
    try:
        source = PostgreSQLSource(config(database, username=READER, password=READER_PASSWORD))
        with pytest.raises(InsufficientPrivilegesError, match="permission denied for database"):
            await source.ping()
    finally:
        await conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO PUBLIC')
        await conn.close()


async def test_tls_against_a_server_without_tls(database: str):
    source = PostgreSQLSource(config(database, ssl_enabled=True))
    with pytest.raises(TLSError, match="does not offer TLS") as info:
        await source.ping()
    assert set(info.value.fields) == {"ssl_enabled", "ssl_ca"}


async def test_tls_certificate_not_trusted(tmp_path: Path):
    server_certs = make_certificates(tmp_path, "server")
    other_ca = make_certificates(tmp_path, "other").ca_pem
    with FakeTLSServer("postgresql", server_certs) as fake:
        base = config("db", host="127.0.0.1", port=fake.port, ssl_enabled=True)
        with pytest.raises(TLSError, match="is not trusted"):
            await PostgreSQLSource({**base, "ssl_ca": other_ca}).ping()
        # The right CA passes the handshake (the fake then hangs up: not a TLS error).
        with pytest.raises(SourceError) as info:
            await PostgreSQLSource({**base, "ssl_ca": server_certs.ca_pem}).ping()
        assert not isinstance(info.value, TLSError)
        # Kibana's single-line form of the PEM works the same.
        one_line = server_certs.ca_pem.replace("\n", " ")
        with pytest.raises(SourceError) as info:
            await PostgreSQLSource({**base, "ssl_ca": one_line}).ping()
        assert not isinstance(info.value, TLSError)


async def test_tls_host_name_mismatch(tmp_path: Path):
    certs = make_certificates(tmp_path, "named", server_name="db.example.com")
    with FakeTLSServer("postgresql", certs) as fake:
        source = PostgreSQLSource(
            config("db", host="127.0.0.1", port=fake.port, ssl_enabled=True, ssl_ca=certs.ca_pem)
        )
        with pytest.raises(TLSError, match="host name written in the server's certificate"):
            await source.ping()


async def test_bad_ca_value_is_a_configuration_error(database: str):
    source = PostgreSQLSource(config(database, ssl_enabled=True, ssl_ca="not a certificate"))
    with pytest.raises(ConfigurationError) as info:
        await source.ping()
    assert "'SSL certificate' must be the PEM text" in info.value.field_errors["ssl_ca"]


async def test_retries_then_gives_up_on_unreachable_host(database: str):
    source = PostgreSQLSource(config(database, port=free_port(), retry_count=1))
    started = asyncio.get_running_loop().time()
    with pytest.raises(HostUnreachableError):
        await docs_of(source.values | {"port": source.values["port"]})
    assert asyncio.get_running_loop().time() - started >= 1  # one retry after 1 s


def test_no_password_in_environment_leaks():
    assert "definitely-wrong" not in os.environ.get("PGPASSWORD", "")


# ---------------------------------------------------------------- unread parts (issue 12)


async def _admin_run(database: str, sql: str, *args: Any) -> Any:
    server = parse_url(admin_url())
    conn = await asyncpg.connect(
        host=server.host, port=server.port, user=server.user,
        password=server.password, database=database,
    )  # fmt: skip
    try:
        return await conn.fetch(sql, *args) if args else await conn.execute(sql)
    finally:
        await conn.close()


async def _sync(es: Any, source: PostgreSQLSource, index: str, log: Path | None = None) -> Any:
    try:
        engine = SyncEngine(es, failure_log=FailureLog(log))
        return await engine.run(source, SyncRequest(index_name=index))
    finally:
        await source.close()


async def _indexed_ids(es: Any, index: str) -> set[str]:
    await es.indices.refresh(index=index)
    response = await es.search(index=index, size=10_000, source=False)
    return {hit["_id"] for hit in response["hits"]["hits"]}


@pytest.mark.es
async def test_a_table_the_user_may_not_read_keeps_its_documents(
    database: str, es: Any, index_name: str, tmp_path: Path
):
    """A multi-table sync where SELECT on one table was revoked: the other tables sync (a
    deleted row is deleted), the table's indexed rows are kept, the failure names it and
    the GRANT that fixes it."""
    await _admin_run(
        database,
        "CREATE SCHEMA scoped;"
        "CREATE TABLE scoped.open_rows (id int PRIMARY KEY, v text);"
        "INSERT INTO scoped.open_rows SELECT g, 'open ' || g FROM generate_series(1, 5) g;"
        "CREATE TABLE scoped.locked_rows (id int PRIMARY KEY, v text);"
        "INSERT INTO scoped.locked_rows SELECT g, 'locked ' || g FROM generate_series(1, 4) g;"
        f"GRANT USAGE ON SCHEMA scoped TO {READER};"
        f"GRANT SELECT ON ALL TABLES IN SCHEMA scoped TO {READER};",
    )
    reader = config(database, username=READER, password=READER_PASSWORD, schema="scoped")
    try:
        first = await _sync(es, PostgreSQLSource(reader), index_name)
        assert first.status.value == "completed" and first.counters.indexed == 9, first.error

        await _admin_run(
            database,
            f"REVOKE SELECT ON scoped.locked_rows FROM {READER};"
            "DELETE FROM scoped.open_rows WHERE id = 1;",
        )
        log = tmp_path / "failures.ndjson"
        second = await _sync(es, PostgreSQLSource(reader), index_name, log)
    finally:
        await _admin_run(database, "DROP SCHEMA scoped CASCADE")

    assert second.status.value == "completed", second.error
    assert second.counters.deleted == 1 and second.counters.failed == 1
    assert second.notice == "stale documents kept: scoped.locked_rows could not be read (4 kept)"
    prefix = f"{database}_scoped_"
    assert await _indexed_ids(es, index_name) == {
        *(f"{prefix}locked_rows_{n}" for n in range(1, 5)),
        *(f"{prefix}open_rows_{n}" for n in range(2, 6)),
    }
    (entry,) = read_failures(log)
    assert entry["name"] == "scoped.locked_rows" and entry["operation"] == "read"
    assert "permission denied for table locked_rows" in entry["reason"]
    assert f'GRANT SELECT ON "scoped"."locked_rows" TO "{READER}";' in entry["reason"]


class _KilledMidRead(PostgreSQLSource):
    """The real source; after `after` rows an administrator ends its server session."""

    after = 500

    async def get_docs(self, filtering: Any = None) -> Any:
        count = 0
        async for document in super().get_docs(filtering):
            yield document
            count += 1
            if count == self.after:
                await _admin_run(
                    self.database,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND application_name = 'sluice' "
                    "AND pid <> pg_backend_pid()",
                    self.database,
                )


@pytest.mark.es
async def test_a_connection_killed_mid_read_says_so_and_deletes_nothing(
    database: str, es: Any, index_name: str
):
    """pg_terminate_backend while a table is read: not reported as a connect failure
    ("Check 'Host', 'Port'…") but as a connection closed mid-read, and the sync deletes
    nothing though rows disappeared at the source."""
    await _admin_run(
        database,
        "CREATE SCHEMA killed; CREATE TABLE killed.rows (id int PRIMARY KEY, v text);"
        "INSERT INTO killed.rows SELECT g, repeat('x', 200) FROM generate_series(1, 3000) g;",
    )
    settings = config(database, schema="killed", fetch_size=100)
    try:
        first = await _sync(es, PostgreSQLSource(settings), index_name)
        assert first.counters.indexed == 3000, first.error
        await _admin_run(database, "DELETE FROM killed.rows WHERE id > 2990")
        second = await _sync(es, _KilledMidRead(settings), index_name)
    finally:
        await _admin_run(database, "DROP SCHEMA killed CASCADE")

    assert second.status.value == "error"
    error = second.error or ""
    # The server's reason reaches asyncpg only if the session ends during a fetch; ended
    # between two fetches, the connection just closes.
    assert re.search(
        r"PostgreSQL closed the connection while reading table killed\.rows after \d+ rows: "
        r"(terminating connection due to administrator command|no reason given)\. "
        r"Run the sync again; nothing was deleted\.",
        error,
    ), error
    assert "Check 'Host'" not in error and "Connecting to" not in error
    assert second.counters.deleted == 0
    assert len(await _indexed_ids(es, index_name)) == 3000
