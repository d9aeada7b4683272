"""The `mysql` source's own behaviours against the real MariaDB/MySQL server
(SLUICE_MYSQL_URL): its column types, table listing, key columns and privileges. What every
SQL source does is in test_sql_sources.py; the database is tests/sources/mysql_server.py."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from sluice.core.engine.source import Scope, SourceFailure
from sluice.sources.database.network import ConnectionLostError
from sluice.sources.errors import InsufficientPrivilegesError
from sluice.sources.mysql import MySQLSource
from tests.sources.mysql_server import (
    READER,
    READER_PASSWORD,
    UUID_VALUE,
    admin_connection,
    config,
    execute,
)

pytestmark = pytest.mark.mysql


@pytest.fixture
def database(mysql_database: str) -> str:
    return mysql_database


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


async def test_abandoning_a_stream_midway_is_clean(database: str):
    source = MySQLSource(config(database, tables="big"))
    docs = source.get_docs()
    first = [await anext(docs) for _ in range(10)]
    await docs.aclose()
    await source.close()
    assert len(first) == 10
    assert len(await docs_of(config(database, tables="customers"))) == 2  # server still fine


# ---------------------------------------------------------------- distinct errors


async def test_missing_privileges(database: str):
    """A database the user may not use (its tables: test_sql_sources.py)."""
    reader = config(database, user=READER, password=READER_PASSWORD, tables="orders")
    with pytest.raises(InsufficientPrivilegesError, match="may not use database"):
        await MySQLSource({**reader, "database": "mysql"}).ping()


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
    (failure,) = [doc for doc in yielded if isinstance(doc, SourceFailure)]
    assert failure.name == "aaa_partial" and failure.operation == "read"
    assert failure.scope == Scope("Table", "aaa_partial")
    assert f"GRANT SELECT ON `{database}`.`aaa_partial` TO '{READER}'@'%';" in failure.reason
    tables = {doc["Table"] for doc in yielded if not isinstance(doc, SourceFailure)}
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
