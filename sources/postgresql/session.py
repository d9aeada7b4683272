"""One asyncpg connection, with the catalogue queries and the streaming a sync needs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg

from sluice.sources.errors import SourceError
from sluice.sources.postgresql.errors import SERVER, Target, lost, translate

#: Tables estimated below this many rows are counted exactly (for the progress bar).
EXACT_COUNT_BELOW = 1_000_000


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgreSQLSession:
    """Rows are read in read-only, repeatable-read transactions through server-side
    cursors (`prefetch` rows at a time), so memory stays flat on any table size."""

    def __init__(
        self, connection: asyncpg.Connection, schema: str, fetch_size: int, target: Target
    ) -> None:
        self.connection = connection
        self.schema = schema
        self.fetch_size = fetch_size
        self.target = target

    @classmethod
    async def open(
        cls,
        target: Target,
        *,
        password: str,
        schema: str,
        ssl: Any,
        fetch_size: int,
    ) -> PostgreSQLSession:
        try:
            connection = await asyncpg.connect(
                host=target.host,
                port=target.port,
                user=target.user,
                password=password,
                database=target.database,
                ssl=ssl,
                timeout=target.timeout,
                server_settings={"application_name": "sluice", "TimeZone": "UTC"},
            )
        except Exception as exc:
            raise translate(exc, target) from None
        for type_name in ("json", "jsonb"):
            await connection.set_type_codec(
                type_name, schema="pg_catalog", encoder=json.dumps, decoder=json.loads
            )
        return cls(connection, schema, fetch_size, target)

    def qualified(self, table: str) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(table)}"

    async def _fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        try:
            return await self.connection.fetch(query, *args)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise self._error(exc, "the catalogue", None) from None

    def _error(self, exc: BaseException, what: str, rows: int | None) -> Exception:
        """A lost connection is told apart from the server refusing a query: the connection
        is closed after the first, open after the second."""
        if self.connection.is_closed():
            return lost(exc, self.target, what, rows)
        if isinstance(exc, asyncpg.PostgresError):
            return translate(exc, self.target)
        return SourceError(f"Reading {what} from {SERVER} failed: {type(exc).__name__}: {exc}.")

    async def schema_exists(self) -> bool:
        rows = await self._fetch("SELECT 1 FROM pg_namespace WHERE nspname = $1", self.schema)
        return bool(rows)

    async def schema_usable(self) -> bool:
        rows = await self._fetch("SELECT has_schema_privilege($1, 'USAGE')", self.schema)
        return bool(rows and rows[0][0])

    async def list_tables(self) -> list[str]:
        """Ordinary and partitioned tables of the schema; partitions are left out (their
        rows are read through the parent) and so are views (name them explicitly)."""
        rows = await self._fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "ORDER BY c.relname",
            self.schema,
        )
        return [row[0] for row in rows]

    async def _oid(self, table: str) -> int | None:
        rows = await self._fetch("SELECT to_regclass($1)::oid", self.qualified(table))
        return rows[0][0] if rows else None

    async def table_exists(self, table: str) -> bool:
        return await self._oid(table) is not None

    async def can_select(self, table: str) -> bool:
        oid = await self._oid(table)
        if oid is None:
            return False
        rows = await self._fetch("SELECT has_table_privilege($1::oid, 'SELECT')", oid)
        return bool(rows[0][0])

    async def primary_key(self, table: str) -> list[str]:
        oid = await self._oid(table)
        if oid is None:
            return []
        rows = await self._fetch(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = $1::oid AND i.indisprimary "
            "ORDER BY array_position(i.indkey, a.attnum)",
            oid,
        )
        return [row[0] for row in rows]

    async def columns(self, table: str) -> list[str]:
        oid = await self._oid(table)
        if oid is None:
            return []
        rows = await self._fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            oid,
        )
        return [row[0] for row in rows]

    async def row_count(self, table: str) -> int:
        """Rows in `table`: the planner's estimate for big analyzed tables (instant), an
        exact count otherwise (cheap at that size). Only for progress, never for safety."""
        rows = await self._fetch(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass($1)",
            self.qualified(table),
        )
        estimate = int(rows[0][0]) if rows and rows[0][0] is not None else -1
        if estimate >= EXACT_COUNT_BELOW:
            return estimate
        rows = await self._fetch(f"SELECT count(*) FROM {self.qualified(table)}")
        return int(rows[0][0])

    def table_rows(
        self,
        table: str,
        *,
        since_column: str | None = None,
        since: Any = None,
        key: Sequence[str] = (),
        after: Sequence[Any] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        query = f"SELECT * FROM {self.qualified(table)}"
        what = f"table {self.schema}.{table}"
        if key:
            columns = ", ".join(quote_ident(k) for k in key)
            order = f" ORDER BY {columns}"
            if after is not None:
                marks = ", ".join(f"${n}" for n in range(1, len(key) + 1))
                return self._stream(what, f"{query} WHERE ({columns}) > ({marks}){order}", *after)
            return self._stream(what, query + order)
        if since_column is not None:
            column = quote_ident(since_column)
            if since is not None:
                return self._stream(what, f"{query} WHERE {column} >= $1 ORDER BY {column}", since)
            return self._stream(what, f"{query} ORDER BY {column}")
        return self._stream(what, query)

    def query_rows(self, query: str) -> AsyncIterator[dict[str, Any]]:
        return self._stream("a custom query", query)

    async def check_query(self, query: str) -> str | None:
        """Why the server would refuse the query (parsed and planned, not run), or None."""
        try:
            async with self.connection.transaction(readonly=True):
                await self.connection.prepare(query)
        except asyncpg.PostgresError as exc:
            return str(exc)
        return None

    async def _stream(self, what: str, query: str, *args: Any) -> AsyncIterator[dict[str, Any]]:
        """Rows of `query`; `what` ("table public.orders") names it if the connection is
        lost, with how many rows had been read."""
        rows = 0
        try:
            async with self.connection.transaction(readonly=True, isolation="repeatable_read"):
                cursor = self.connection.cursor(query, *args, prefetch=self.fetch_size)
                async for record in cursor:
                    yield dict(record.items())
                    rows += 1
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise self._error(exc, what, rows) from None

    async def close(self) -> None:
        if not self.connection.is_closed():
            await self.connection.close(timeout=5)
