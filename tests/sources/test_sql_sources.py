"""What every SQL source must do, run against each real server (MariaDB/MySQL and
PostgreSQL): ids for tables without a key, streaming, incremental reads, advanced rules,
read-only custom queries and the distinct, actionable connection errors.

Each database's own behaviours (its column types, its table listing, its privileges model)
stay in test_mysql.py and test_postgresql.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from sluice.core.engine.source import Operation
from sluice.sources.database.source import SQLSource
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
from sluice.sources.mysql import MySQLSource
from sluice.sources.postgresql import PostgreSQLSource
from tests.sources import mysql_server, pg_server
from tests.sources.helpers import FakeTLSServer, free_port, make_certificates


@dataclass(frozen=True)
class Backend:
    """How one SQL source's documents and messages are spelled, so one test reads both."""

    name: str
    server: str  # as messages name it
    source_class: type[SQLSource]
    database: str
    make_config: Callable[..., dict[str, Any]]
    admin: Any  # the server module: admin_connection, READER, ...
    user_field: str
    #: Prefix of a row's `_id` and of its column fields, given the table.
    id_prefix: Callable[[str, str], str]
    field: Callable[[str, str], str]
    cursor_key: Callable[[str], str]
    #: A DATETIME/timestamptz literal for an update, and its value in the cursor.
    time_literal: Callable[[str], str]
    cursor_time: Callable[[str], str]
    read_only_error: str
    grant_hint: str

    def config(self, **overrides: Any) -> dict[str, Any]:
        return self.make_config(self.database, **overrides)

    def reader(self, **overrides: Any) -> dict[str, Any]:
        """The configuration as the restricted user (SELECT on orders, not on secret)."""
        user = {self.user_field: self.admin.READER, "password": self.admin.READER_PASSWORD}
        return self.config(**user, **overrides)

    async def docs(self, configuration: dict[str, Any], filtering: Any = None) -> list[dict]:
        async with self.source_class(configuration) as source:
            return [doc async for doc in source.get_docs(filtering)]

    async def execute(self, *statements: str) -> None:
        """Run statements as the administrator in the test database."""
        if self.name == "mysql":
            connection = await self.admin.admin_connection(self.database)
            try:
                await self.admin.execute(connection, *statements)
            finally:
                connection.close()
        else:
            connection = await self.admin.admin_connection(self.database)
            try:
                for statement in statements:
                    await connection.execute(statement)
            finally:
                await connection.close()


def _mysql(database: str) -> Backend:
    return Backend(
        name="mysql",
        server="MySQL",
        source_class=MySQLSource,
        database=database,
        make_config=mysql_server.config,
        admin=mysql_server,
        user_field="user",
        id_prefix=lambda _db, table: f"{table}_",
        field=lambda _table, column: column,
        cursor_key=lambda table: table,
        time_literal=lambda day: f"'{day} 00:00:00'",
        cursor_time=lambda day: f"{day}T00:00:00",
        read_only_error="READ ONLY",
        grant_hint="GRANT SELECT ON",
    )


def _postgresql(database: str) -> Backend:
    return Backend(
        name="postgresql",
        server="PostgreSQL",
        source_class=PostgreSQLSource,
        database=database,
        make_config=pg_server.config,
        admin=pg_server,
        user_field="username",
        id_prefix=lambda db, table: f"{db}_public_{table}_",
        field=lambda table, column: f"public_{table}_{column}",
        cursor_key=lambda table: f"public.{table}",
        time_literal=lambda day: f"'{day} 00:00:00+00'",
        cursor_time=lambda day: f"{day}T00:00:00+00:00",
        read_only_error="read-only transaction",
        grant_hint="GRANT SELECT ON ALL TABLES IN SCHEMA",
    )


@pytest.fixture(
    params=[
        pytest.param("mysql", marks=pytest.mark.mysql),
        pytest.param("postgresql", marks=pytest.mark.pg),
    ]
)
def sql(request: pytest.FixtureRequest) -> Backend:
    if request.param == "mysql":
        return _mysql(request.getfixturevalue("mysql_database"))
    return _postgresql(request.getfixturevalue("pg_database"))


# ---------------------------------------------------------------- documents


async def test_table_without_primary_key(sql: Backend):
    docs = await sql.docs(sql.config(tables="events"))
    ids = [doc["_id"] for doc in docs]
    assert len(ids) == 3 and len(set(ids)) == 2  # identical rows share an id
    assert all(i.startswith(sql.id_prefix(sql.database, "events") + "row_") for i in ids)


async def test_big_table_streams_with_flat_memory(sql: Backend):
    process = psutil.Process()
    count = 0
    baseline = peak = 0
    payload = sql.field("big", "payload")
    async with sql.source_class(sql.config(tables="big", fetch_size=500)) as source:
        started = asyncio.get_running_loop().time()
        async for doc in source.get_docs():
            count += 1
            if count == 1000:
                baseline = peak = process.memory_info().rss
            elif count % 5000 == 0:
                peak = max(peak, process.memory_info().rss)
            assert len(doc[payload]) == 1024
        elapsed = asyncio.get_running_loop().time() - started
    growth = (peak - baseline) / 2**20
    print(f"\n{sql.name}: {count} rows in {elapsed:.1f}s, RSS growth {growth:.1f} MiB")
    assert count == sql.admin.BIG_ROWS
    # The rows are ~100 MiB of text: buffering them would grow RSS far beyond this bound.
    assert growth < 40, f"RSS grew by {growth:.1f} MiB while streaming"


# ---------------------------------------------------------------- incremental


async def test_incremental_sync_from_modification_column(sql: Backend):
    source = sql.source_class(sql.config(tables="orders,customers", modified_column="updated_at"))
    assert source.supports_incremental_sync()
    orders = sql.cursor_key("orders")
    prefix = sql.id_prefix(sql.database, "orders")
    try:
        first = [pair async for pair in source.get_docs_incrementally(None)]
        assert {op for _, op in first} == {Operation.INDEX}
        assert len(first) == 5  # 3 orders + 2 customers (no such column: read in full)
        cursor = source.sync_cursor
        assert cursor["tables"][orders] == {
            "type": "datetime", "value": sql.cursor_time("2024-01-03"),
        }  # fmt: skip
        order_1 = next(d for d, _ in first if d["_id"] == f"{prefix}1")
        assert order_1["_timestamp"] == "2024-01-01T00:00:00+00:00"

        await sql.execute(
            f"UPDATE orders SET total = 11, updated_at = {sql.time_literal('2024-02-01')} "
            "WHERE id = 1",
            f"INSERT INTO orders VALUES (4, 2, 5, {sql.time_literal('2024-02-02')})",
        )
        second = [doc async for doc, _ in source.get_docs_incrementally(cursor)]
        changed = sorted(d["_id"][len(prefix) :] for d in second if d["_id"].startswith(prefix))
        assert changed == ["1", "3", "4"]  # changed, new, and the boundary row (>=)
        assert source.sync_cursor["tables"][orders]["value"] == sql.cursor_time("2024-02-02")
        # A cursor made for another column is ignored: everything is read again.
        other = sql.source_class(sql.config(tables="orders", modified_column="updated_at"))
        again = [
            d async for d, _ in other.get_docs_incrementally({"modified_column": "x", "tables": {}})
        ]
        assert len(again) == 4
    finally:
        await sql.execute(
            "DELETE FROM orders WHERE id = 4",
            f"UPDATE orders SET total = 10.50, updated_at = {sql.time_literal('2024-01-01')} "
            "WHERE id = 1",
        )


# ---------------------------------------------------------------- advanced rules

RULES = [
    {
        "tables": ["orders", "customers"],
        "query": "SELECT o.id, c.name, o.total FROM orders o "
        "JOIN customers c ON c.id = o.customer_id",
        "id_columns": ["id"],
    }
]


async def test_advanced_rules_custom_query(sql: Backend):
    """The rules replace the configured tables (here all_types)."""
    filtering = {"advanced_snippet": {"value": RULES}, "rules": []}
    docs = await sql.docs(sql.config(tables="all_types"), filtering)
    prefix = sql.id_prefix(sql.database, "customers_orders")
    assert sorted(d["_id"] for d in docs) == [f"{prefix}{n}" for n in (1, 2, 3)]
    ada = next(d for d in docs if d["_id"].endswith("_1"))
    assert ada[sql.field("customers_orders", "name")] == "Ada"
    assert ada[sql.source_class.scope_field] == ["orders", "customers"]


async def test_advanced_rules_validation(sql: Backend):
    source = sql.source_class(sql.config())
    assert source.advanced_rules_validate(RULES) == []
    assert source.advanced_rules_validate({"tables": ["x"]}) == [
        "The advanced rules must be a JSON list of {tables, query, id_columns} objects."
    ]
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
    assert remote[1].startswith(f"Rule 1: the query is refused by {sql.server}")
    assert "syntax" in remote[1]
    assert len(remote) == 2
    with pytest.raises(AdvancedRulesError, match="'query' must be"):
        await sql.docs(sql.config(), {"advanced_snippet": {"value": [{"tables": ["orders"]}]}})
    with pytest.raises(AdvancedRulesError, match="'tables' must be"):
        await sql.docs(sql.config(), {"advanced_snippet": {"value": [{"query": "SELECT 1"}]}})


async def test_custom_queries_run_read_only(sql: Backend):
    """Custom queries run in a read-only transaction: one that writes is refused by the
    server and changes nothing."""
    rule = [{"tables": ["customers"], "query": "DELETE FROM customers WHERE id = 2"}]
    with pytest.raises(SourceError, match=sql.read_only_error):
        await sql.docs(sql.config(), {"advanced_snippet": {"value": rule}})
    name = sql.field("customers", "name")
    names = [d[name] for d in await sql.docs(sql.config(tables="customers"))]
    assert sorted(names) == ["Ada", "Grace"]


async def test_missing_id_columns_in_query_result(sql: Backend):
    rule = [{"tables": ["customers"], "query": "SELECT name FROM customers"}]
    with pytest.raises(AdvancedRulesError, match="returns no column id"):
        await sql.docs(sql.config(), {"advanced_snippet": {"value": rule}})


# ---------------------------------------------------------------- distinct errors


async def test_valid_configuration_passes(sql: Backend):
    source = sql.source_class(sql.config(tables="orders, customers"))
    await source.ping()
    await source.validate_config()


async def test_unreachable_port(sql: Backend):
    source = sql.source_class(sql.config(port=free_port()))
    with pytest.raises(HostUnreachableError) as info:
        await source.ping()
    assert "Nothing accepts connections at 127.0.0.1:" in str(info.value)
    assert info.value.fields == ("host", "port")
    with pytest.raises(HostUnreachableError):
        await source.validate_config()


async def test_wrong_password(sql: Backend):
    with pytest.raises(AuthenticationError) as info:
        await sql.source_class(sql.config(password="definitely-wrong")).ping()
    message = str(info.value)
    assert "rejected" in message and f"user '{sql.config()[sql.user_field]}'" in message
    assert "definitely-wrong" not in message
    assert set(info.value.field_errors) == {sql.user_field, "password"}


async def test_missing_database(sql: Backend):
    missing = f"nope_{sql.admin.SUFFIX}"
    source = sql.source_class(sql.make_config(missing))
    with pytest.raises(DatabaseNotFoundError, match=f"database '{missing}' does not exist"):
        await source.ping()


async def test_missing_table(sql: Backend):
    source = sql.source_class(sql.config(tables="orders, ghosts"))
    with pytest.raises(TableNotFoundError, match=r"not found: (public\.)?ghosts") as info:
        await source.validate_config()
    assert info.value.fields == ("tables",)
    with pytest.raises(TableNotFoundError):  # a sync fails instead of deleting documents
        await sql.docs(sql.config(tables="orders, ghosts"))


async def test_missing_privileges_on_tables(sql: Backend):
    """(The MySQL half was test_missing_privileges, whose database part stays in
    test_mysql.py.)"""
    reader = sql.reader(tables="orders")
    await sql.source_class(reader).validate_config()  # granted
    with pytest.raises(InsufficientPrivilegesError) as info:
        await sql.source_class({**reader, "tables": "orders, secret"}).validate_config()
    assert f"User '{sql.admin.READER}' may not read table(s) secret" in str(info.value)
    assert sql.grant_hint in str(info.value)


async def test_tls_against_a_server_without_tls(sql: Backend):
    with pytest.raises(TLSError, match="does not offer TLS") as info:
        await sql.source_class(sql.config(ssl_enabled=True)).ping()
    assert set(info.value.fields) == {"ssl_enabled", "ssl_ca"}


async def test_tls_certificate_not_trusted(sql: Backend, tmp_path: Path):
    server_certs = make_certificates(tmp_path, "server")
    other_ca = make_certificates(tmp_path, "other").ca_pem
    with FakeTLSServer(sql.name, server_certs) as fake:
        base = sql.make_config("db", host="127.0.0.1", port=fake.port, ssl_enabled=True)
        with pytest.raises(TLSError, match="is not trusted"):
            await sql.source_class({**base, "ssl_ca": other_ca}).ping()
        # The right CA passes the handshake (the fake then hangs up: not a TLS error).
        with pytest.raises(SourceError) as info:
            await sql.source_class({**base, "ssl_ca": server_certs.ca_pem}).ping()
        assert not isinstance(info.value, TLSError)
        # Kibana's single-line form of the PEM works the same.
        one_line = server_certs.ca_pem.replace("\n", " ")
        with pytest.raises(SourceError) as info:
            await sql.source_class({**base, "ssl_ca": one_line}).ping()
        assert not isinstance(info.value, TLSError)


async def test_bad_ca_value_is_a_configuration_error(sql: Backend):
    source = sql.source_class(sql.config(ssl_enabled=True, ssl_ca="not a certificate"))
    with pytest.raises(ConfigurationError) as info:
        await source.ping()
    assert "'SSL certificate' must be the PEM text" in info.value.field_errors["ssl_ca"]


async def test_retries_then_gives_up_on_unreachable_host(sql: Backend):
    started = asyncio.get_running_loop().time()
    with pytest.raises(HostUnreachableError):
        await sql.docs(sql.config(port=free_port(), retry_count=1))
    assert asyncio.get_running_loop().time() - started >= 1  # one retry after 1 s
