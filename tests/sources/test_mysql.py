"""The `mysql` source against the real MariaDB/MySQL server (SLUICE_MYSQL_URL).

The module creates its own database (and a restricted user) and drops them at the end."""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiomysql
import psutil
import pytest
from sluice.core.engine.source import (
    FAILURE_FIELD,
    NAME_FIELD,
    OPERATION_FIELD,
    SCOPE_FIELD,
    Operation,
    Scope,
)
from sluice.sources.database.network import ConnectionLostError
from sluice.sources.errors import (
    AdvancedRulesError,
    AuthenticationError,
    DatabaseNotFoundError,
    HostUnreachableError,
    InsufficientPrivilegesError,
    SourceError,
    TableNotFoundError,
    TLSError,
)
from sluice.sources.mysql import MySQLSource

from tests.conftest import service_url
from tests.sources.helpers import FakeTLSServer, free_port, make_certificates, parse_url

pytestmark = pytest.mark.mysql

SUFFIX = uuid.uuid4().hex[:10]
DATABASE = f"sluice_src_{SUFFIX}"
READER = f"sluice_ro_{SUFFIX}"
READER_PASSWORD = "reader-pass-1"
BIG_ROWS = 100_000
UUID_VALUE = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"

SEED = [
    """CREATE TABLE all_types (
        id BIGINT UNSIGNED PRIMARY KEY, tiny TINYINT, small SMALLINT, medium MEDIUMINT, num INT,
        big BIGINT UNSIGNED, price DECIMAL(20,5), huge DECIMAL(40,10), ratio FLOAT, dbl DOUBLE,
        flag BOOLEAN, bits BIT(8), label VARCHAR(50), letter CHAR(3), body TEXT,
        long_body LONGTEXT, raw VARBINARY(16), fixed BINARY(4), blob_col BLOB, day DATE,
        clock TIME, at_local DATETIME(6), at_ts TIMESTAMP NULL, yr YEAR,
        e ENUM('sad', 'happy'), s SET('x', 'y', 'z'), doc JSON, g POINT, poly POLYGON,
        geom GEOMETRY {extra_columns}
    ) DEFAULT CHARSET = utf8mb4""",
    """INSERT INTO all_types VALUES (
        1, -128, -32768, 8388607, 2147483647, 18446744073709551615, 12345.67891,
        123456789012345678901234567890.1234567890, 1.5, 2.25, TRUE, b'10101010', 'label é',
        'ab', 'long body ✓', REPEAT('x', 70000), x'deadbeef', x'0102', x'00ff',
        '2024-02-29', '13:45:30', '2024-05-01 10:00:00.123456', '2024-05-01 08:00:00', 2024,
        'happy', 'x,z', '{{"a": [1, 2], "b": null}}', ST_GeomFromText('POINT(1 2)'),
        ST_GeomFromText('POLYGON((0 0,1 1,1 0,0 0))'), ST_GeomFromText('LINESTRING(0 0,1 1)')
        {extra_values}
    )""",
    "INSERT INTO all_types (id) VALUES (2)",
    """CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, total DECIMAL(10,2),
                          updated_at DATETIME NOT NULL)""",
    "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50))",
    "INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace')",
    """INSERT INTO orders VALUES (1, 1, 10.50, '2024-01-01 00:00:00'),
                                 (2, 2, 20.00, '2024-01-02 00:00:00'),
                                 (3, 1, 30.25, '2024-01-03 00:00:00')""",
    "CREATE TABLE events (happened DATE, what VARCHAR(20))",
    "INSERT INTO events VALUES ('2024-01-01', 'same'), ('2024-01-01', 'same'), ('2024-01-02', 'b')",
    "CREATE TABLE secret (id INT PRIMARY KEY, value TEXT)",
    "CREATE VIEW order_view AS SELECT id, total FROM orders",
    "CREATE TABLE digits (d INT)",
    "INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)",
    "CREATE TABLE big (id INT PRIMARY KEY, payload TEXT)",
    """INSERT INTO big SELECT a.d + 10*b.d + 100*c.d + 1000*e.d + 10000*f.d + 1,
              REPEAT(MD5(a.d + 10*b.d + 100*c.d + 1000*e.d + 10000*f.d), 32)
       FROM digits a, digits b, digits c, digits e, digits f""",
]


def admin_server():
    return parse_url(
        service_url("SLUICE_MYSQL_URL", "mysql://sluice:sluice@127.0.0.1:33306/sluice")
    )


async def admin_connection(database: str | None = None) -> aiomysql.Connection:
    server = admin_server()
    return await aiomysql.connect(
        host=server.host, port=server.port, user=server.user, password=server.password,
        db=database, autocommit=True, charset="utf8mb4", init_command="SET time_zone = '+00:00'",
    )  # fmt: skip


async def execute(connection: aiomysql.Connection, *statements: str) -> None:
    async with connection.cursor() as cursor:
        for statement in statements:
            await cursor.execute(statement)


@pytest.fixture(scope="module")
def mariadb() -> bool:
    async def version() -> str:
        connection = await admin_connection()
        try:
            return connection.get_server_info()
        finally:
            connection.close()

    return "mariadb" in asyncio.run(version()).lower()


@pytest.fixture(scope="module")
def database(mariadb: bool) -> Iterator[str]:
    extra_columns = ", uid UUID, ip INET6" if mariadb else ""
    extra_values = f", '{UUID_VALUE}', '::ffff:192.168.1.5'" if mariadb else ""

    async def setup() -> None:
        admin = await admin_connection()
        try:
            await execute(
                admin,
                f"CREATE DATABASE `{DATABASE}`",
                f"CREATE USER '{READER}'@'%' IDENTIFIED BY '{READER_PASSWORD}'",
            )
        finally:
            admin.close()
        connection = await admin_connection(DATABASE)
        try:
            await execute(
                connection,
                *(
                    s.format(extra_columns=extra_columns, extra_values=extra_values)
                    if "{" in s
                    else s
                    for s in SEED
                ),
                f"GRANT SELECT ON `{DATABASE}`.orders TO '{READER}'@'%'",
                f"GRANT SELECT ON `{DATABASE}`.customers TO '{READER}'@'%'",
            )
        finally:
            connection.close()

    async def teardown() -> None:
        admin = await admin_connection()
        try:
            await execute(
                admin,
                f"DROP DATABASE IF EXISTS `{DATABASE}`",
                f"DROP USER IF EXISTS '{READER}'@'%'",
            )
        finally:
            admin.close()

    try:
        asyncio.run(setup())
        yield DATABASE
    finally:
        asyncio.run(teardown())


def config(database: str, **overrides: Any) -> dict[str, Any]:
    server = admin_server()
    values: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "database": database,
        "tables": "*",
        "retry_count": 0,
        "connect_timeout": 5,
    }
    values.update(overrides)
    return values


async def docs_of(configuration: dict[str, Any], filtering: Any = None) -> list[dict[str, Any]]:
    async with MySQLSource(configuration) as source:
        return [doc async for doc in source.get_docs(filtering)]


# ---------------------------------------------------------------- documents


async def test_every_column_type_is_converted(database: str, mariadb: bool):
    docs = {d["_id"]: d for d in await docs_of(config(database, tables="all_types"))}
    assert set(docs) == {"all_types_1", "all_types_2"}
    doc = docs["all_types_1"]
    expected = {
        "id": 1, "tiny": -128, "small": -32768, "medium": 8388607, "num": 2147483647,
        "big": 18446744073709551615, "price": 12345.67891,
        "huge": "123456789012345678901234567890.1234567890", "ratio": 1.5, "dbl": 2.25,
        "flag": 1, "bits": "10101010", "label": "label é", "letter": "ab", "body": "long body ✓",
        "raw": base64.b64encode(bytes.fromhex("deadbeef")).decode(),
        "fixed": base64.b64encode(bytes.fromhex("01020000")).decode(),
        "blob_col": base64.b64encode(b"\x00\xff").decode(), "day": "2024-02-29",
        "clock": "PT13H45M30S", "at_local": "2024-05-01T10:00:00.123456",
        "at_ts": "2024-05-01T08:00:00+00:00", "yr": 2024, "e": "happy", "s": "x,z",
        "doc": '{"a": [1, 2], "b": null}', "g": "POINT(1 2)",
        "poly": "POLYGON((0 0,1 1,1 0,0 0))", "geom": "LINESTRING(0 0,1 1)",
        "Table": "all_types",
    }  # fmt: skip
    for key, value in expected.items():
        assert doc[key] == value, key
    assert len(doc["long_body"]) == 70000
    if mariadb:
        assert doc["uid"] == UUID_VALUE and doc["ip"] == "::ffff:192.168.1.5"
    assert all(
        value is None
        for key, value in docs["all_types_2"].items()
        if key not in {"id", "_id", "_timestamp", "Table"}
    )


async def test_wildcard_reads_base_tables_only(database: str):
    docs = await docs_of(config(database))
    assert {doc["Table"] for doc in docs} == {
        "all_types",
        "orders",
        "customers",
        "events",
        "digits",
        "big",
    }


async def test_table_without_primary_key(database: str):
    docs = await docs_of(config(database, tables="events"))
    ids = [doc["_id"] for doc in docs]
    assert len(ids) == 3 and len(set(ids)) == 2
    assert all(i.startswith("events_row_") for i in ids)


async def test_key_columns_and_values_as_elastic_writes_them(database: str):
    """Elastic's ids: the columns the server marks PRI, in column order (a UNIQUE NOT NULL
    index counts when there is no PRIMARY KEY), and str() of the driver's values (a BIT is
    bytes there; a TIMESTAMP has no offset)."""
    connection = await admin_connection(database)
    try:
        await execute(
            connection,
            "CREATE TABLE keyed (b BIT(4) NOT NULL, at TIMESTAMP NOT NULL, n INT, "
            "PRIMARY KEY (at, b))",
            "INSERT INTO keyed VALUES (b'0101', '2024-05-01 08:00:00', 1)",
            "CREATE TABLE coded (a INT, code VARCHAR(5) NOT NULL UNIQUE)",
            "INSERT INTO coded VALUES (1, 'X1')",
        )
        (keyed,) = await docs_of(config(database, tables="keyed"))
        assert keyed["_id"] == "keyed_b'\\x05'_2024-05-01 08:00:00"
        assert keyed["b"] == "0101" and keyed["at"] == "2024-05-01T08:00:00+00:00"
        (coded,) = await docs_of(config(database, tables="coded"))
        assert coded["_id"] == "coded_X1"
    finally:
        await execute(connection, "DROP TABLE IF EXISTS keyed, coded")
        connection.close()


async def test_big_table_streams_with_flat_memory(database: str):
    process = psutil.Process()
    count = 0
    baseline = peak = 0
    async with MySQLSource(config(database, tables="big", fetch_size=500)) as source:
        started = asyncio.get_running_loop().time()
        async for doc in source.get_docs():
            count += 1
            if count == 1000:
                baseline = peak = process.memory_info().rss
            elif count % 5000 == 0:
                peak = max(peak, process.memory_info().rss)
            assert len(doc["payload"]) == 1024
        elapsed = asyncio.get_running_loop().time() - started
    growth = (peak - baseline) / 2**20
    print(f"\nmysql: {count} rows in {elapsed:.1f}s, RSS growth {growth:.1f} MiB")
    assert count == BIG_ROWS
    assert growth < 40, f"RSS grew by {growth:.1f} MiB while streaming"


async def test_abandoning_a_stream_midway_is_clean(database: str):
    source = MySQLSource(config(database, tables="big"))
    docs = source.get_docs()
    first = [await anext(docs) for _ in range(10)]
    await docs.aclose()
    await source.close()
    assert len(first) == 10
    assert len(await docs_of(config(database, tables="customers"))) == 2  # server still fine


# ---------------------------------------------------------------- incremental


async def test_incremental_sync_from_modification_column(database: str):
    connection = await admin_connection(database)
    source = MySQLSource(config(database, tables="orders,customers", modified_column="updated_at"))
    try:
        first = [pair async for pair in source.get_docs_incrementally(None)]
        assert {op for _, op in first} == {Operation.INDEX} and len(first) == 5
        cursor = source.sync_cursor
        assert cursor["tables"]["orders"] == {"type": "datetime", "value": "2024-01-03T00:00:00"}
        order_1 = next(d for d, _ in first if d["_id"] == "orders_1")
        assert order_1["_timestamp"] == "2024-01-01T00:00:00+00:00"
        await execute(
            connection,
            "UPDATE orders SET total = 11, updated_at = '2024-02-01' WHERE id = 1",
            "INSERT INTO orders VALUES (4, 2, 5, '2024-02-02')",
        )
        second = [doc async for doc, _ in source.get_docs_incrementally(cursor)]
        assert sorted(d["_id"] for d in second if d["Table"] == "orders") == [
            "orders_1", "orders_3", "orders_4",
        ]  # fmt: skip
        assert source.sync_cursor["tables"]["orders"]["value"] == "2024-02-02T00:00:00"
    finally:
        await execute(
            connection,
            "DELETE FROM orders WHERE id = 4",
            "UPDATE orders SET total = 10.50, updated_at = '2024-01-01' WHERE id = 1",
        )
        connection.close()


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
    docs = await docs_of(config(database), {"advanced_snippet": {"value": RULES}})
    assert sorted(d["_id"] for d in docs) == [
        "customers_orders_1",
        "customers_orders_2",
        "customers_orders_3",
    ]
    assert next(d for d in docs if d["_id"].endswith("_1"))["name"] == "Ada"


async def test_advanced_rules_validation(database: str):
    source = MySQLSource(config(database))
    assert source.advanced_rules_validate(RULES) == []
    assert source.advanced_rules_validate({"tables": ["x"]}) == [
        "The advanced rules must be a JSON list of {tables, query, id_columns} objects."
    ]
    remote = await source.validate_advanced_rules([{"tables": ["nope"], "query": "SELEC 1"}])
    assert remote[0] == "Rule 1: tables not found: nope."
    assert "refused by MySQL" in remote[1] and "syntax" in remote[1]
    with pytest.raises(AdvancedRulesError):
        await docs_of(config(database), {"advanced_snippet": {"value": [{"tables": ["orders"]}]}})


async def test_custom_queries_run_read_only(database: str):
    rule = [{"tables": ["customers"], "query": "DELETE FROM customers WHERE id = 2"}]
    with pytest.raises(SourceError, match="READ ONLY"):
        await docs_of(config(database), {"advanced_snippet": {"value": rule}})
    assert len(await docs_of(config(database, tables="customers"))) == 2


# ---------------------------------------------------------------- distinct errors


async def test_valid_configuration_passes(database: str):
    source = MySQLSource(config(database, tables="orders, customers"))
    await source.ping()
    await source.validate_config()


async def test_unreachable_port(database: str):
    with pytest.raises(HostUnreachableError, match="Nothing accepts connections"):
        await MySQLSource(config(database, port=free_port())).ping()


async def test_wrong_password(database: str):
    with pytest.raises(AuthenticationError) as info:
        await MySQLSource(config(database, password="definitely-wrong")).ping()
    assert "definitely-wrong" not in str(info.value)
    assert set(info.value.field_errors) == {"user", "password"}


async def test_missing_database():
    with pytest.raises(DatabaseNotFoundError, match=f"database 'nope_{SUFFIX}' does not exist"):
        await MySQLSource(config(f"nope_{SUFFIX}")).ping()


async def test_missing_table(database: str):
    with pytest.raises(TableNotFoundError, match="not found: ghosts") as info:
        await MySQLSource(config(database, tables="orders, ghosts")).validate_config()
    assert info.value.fields == ("tables",)


async def test_missing_privileges(database: str):
    reader = config(database, user=READER, password=READER_PASSWORD, tables="orders")
    await MySQLSource(reader).validate_config()
    with pytest.raises(InsufficientPrivilegesError) as info:
        await MySQLSource({**reader, "tables": "orders, secret"}).validate_config()
    assert f"User '{READER}' may not read table(s) secret" in str(info.value)
    assert "GRANT SELECT ON" in str(info.value)
    with pytest.raises(InsufficientPrivilegesError, match="may not use database"):
        await MySQLSource({**reader, "database": "mysql"}).ping()


async def test_tls_against_a_server_without_tls(database: str):
    with pytest.raises(TLSError, match="does not offer TLS") as info:
        await MySQLSource(config(database, ssl_enabled=True)).ping()
    assert set(info.value.fields) == {"ssl_enabled", "ssl_ca"}


async def test_tls_certificate_not_trusted(tmp_path: Path):
    server_certs = make_certificates(tmp_path, "server")
    other_ca = make_certificates(tmp_path, "other").ca_pem
    with FakeTLSServer("mysql", server_certs) as fake:
        base = config("db", host="127.0.0.1", port=fake.port, ssl_enabled=True)
        with pytest.raises(TLSError, match="is not trusted"):
            await MySQLSource({**base, "ssl_ca": other_ca}).ping()
        with pytest.raises(SourceError) as info:
            await MySQLSource({**base, "ssl_ca": server_certs.ca_pem}).ping()
        assert not isinstance(info.value, TLSError)


# ---------------------------------------------------------------- unread parts (issue 12)


async def test_a_table_the_user_may_not_read_is_a_scoped_failure(database: str):
    """MySQL hides a table the user has no privilege on at all (nothing to do about that);
    with another privilege than SELECT it is listed and reading it is refused. That table
    becomes a failure record scoped to its `Table`, and the connection goes on to read the
    next tables."""
    admin = await admin_connection(database)
    try:
        await execute(
            admin,
            "CREATE TABLE aaa_partial (id INT PRIMARY KEY, hidden TEXT)",
            "INSERT INTO aaa_partial VALUES (1, 'x')",
            f"GRANT INSERT ON `{database}`.aaa_partial TO '{READER}'@'%'",
        )
        reader = config(database, user=READER, password=READER_PASSWORD, tables="*")
        yielded = await docs_of(reader)
    finally:
        await execute(admin, "DROP TABLE aaa_partial")
        admin.close()
    (failure,) = [doc for doc in yielded if FAILURE_FIELD in doc]
    assert failure[NAME_FIELD] == "aaa_partial" and failure[OPERATION_FIELD] == "read"
    assert failure[SCOPE_FIELD] == Scope("Table", "aaa_partial")
    assert (
        f"GRANT SELECT ON `{database}`.`aaa_partial` TO '{READER}'@'%';" in failure[FAILURE_FIELD]
    )
    tables = {doc["Table"] for doc in yielded if FAILURE_FIELD not in doc}
    assert tables == {"customers", "orders"}  # read after the refused table


async def test_a_connection_killed_mid_read_says_so(database: str):
    count = 0
    admin = await admin_connection(database)
    try:
        with pytest.raises(ConnectionLostError) as info:
            async with MySQLSource(config(database, tables="big", fetch_size=100)) as source:
                async for _ in source.get_docs():
                    count += 1
                    if count == 500:
                        async with admin.cursor() as cursor:
                            await cursor.execute(
                                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s "
                                "AND INFO LIKE 'SELECT%%big%%' AND ID <> CONNECTION_ID()",
                                (database,),
                            )
                            (thread,) = await cursor.fetchone()
                            await cursor.execute(f"KILL {thread}")
    finally:
        admin.close()
    message = str(info.value)
    assert re.match(
        r"MySQL closed the connection while reading table big after \d+ rows: .+\. "
        r"Run the sync again; nothing was deleted\.",
        message,
    ), message
    assert "Check 'Host'" not in message
