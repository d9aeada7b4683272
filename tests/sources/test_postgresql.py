"""The `postgresql` source's own behaviours against the real PostgreSQL server
(SLUICE_PG_URL): its column types, schemas, partitions, quoted names, connect privilege and
host-name checks. What every SQL source does is in test_sql_sources.py; the database is
tests/sources/pg_server.py."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from sluice.core.engine.engine import SyncEngine, SyncRequest
from sluice.core.engine.failures import FailureLog, read_failures
from sluice.sources.errors import DatabaseNotFoundError, InsufficientPrivilegesError, TLSError
from sluice.sources.postgresql import PostgreSQLSource
from tests.sources.helpers import FakeTLSServer, make_certificates, parse_url
from tests.sources.pg_server import READER, READER_PASSWORD, admin_url, config

pytestmark = pytest.mark.pg


@pytest.fixture
def database(pg_database: str) -> str:
    return pg_database


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


# ---------------------------------------------------------------- distinct errors


async def test_missing_schema(database: str):
    with pytest.raises(DatabaseNotFoundError, match="schema 'ghost' does not exist") as info:
        await PostgreSQLSource(config(database, schema="ghost")).validate_config()
    assert info.value.fields == ("schema",)


async def test_wildcard_with_an_unreadable_table_is_refused(database: str):
    """Unlike MySQL, PostgreSQL lists tables the user may not read: validation names them
    (the rest of the privileges test is in test_sql_sources.py)."""
    reader = config(database, username=READER, password=READER_PASSWORD, tables="*")
    with pytest.raises(InsufficientPrivilegesError, match="customers"):
        await PostgreSQLSource(reader).validate_config()


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


async def test_tls_host_name_mismatch(tmp_path: Path):
    certs = make_certificates(tmp_path, "named", server_name="db.example.com")
    with FakeTLSServer("postgresql", certs) as fake:
        source = PostgreSQLSource(
            config("db", host="127.0.0.1", port=fake.port, ssl_enabled=True, ssl_ca=certs.ca_pem)
        )
        with pytest.raises(TLSError, match="host name written in the server's certificate"):
            await source.ping()


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
