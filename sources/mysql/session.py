"""One aiomysql connection, with the catalogue queries and the streaming a sync needs.
Works with MySQL and MariaDB."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import aiomysql
import pymysql
from pymysql.constants import CLIENT, FIELD_TYPE

from sluice.sources.mysql.errors import (
    CONNECTION_LOST_CODES,
    ServerWithoutTLS,
    Target,
    error_code,
    lost,
    translate,
)
from sluice.sources.mysql.values import Bits

# Spatial columns are read as WKT text (ST_AsText) instead of binary WKB.
SPATIAL_TYPES = {
    "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
    "multipolygon", "geometrycollection",
}  # fmt: skip
# UTC for TIMESTAMP values; a long write timeout so a slow consumer does not make the
# server drop a streamed result.
_INIT = "SET time_zone = '+00:00', net_write_timeout = 3600"


#: Tables estimated below this many rows are counted exactly (for the progress bar).
EXACT_COUNT_BELOW = 1_000_000


def quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class _Connection(aiomysql.Connection):
    """Refuses to authenticate in clear when TLS was asked for: aiomysql would otherwise
    quietly fall back to plain TCP with a server that offers no TLS."""

    async def _request_authentication(self) -> None:
        if self._ssl_context and not self.server_capabilities & CLIENT.SSL:
            raise ServerWithoutTLS()
        await super()._request_authentication()


class MySQLSession:
    """Rows are streamed with unbuffered server-side cursors (`SSCursor`, `fetch_size` rows
    per read) inside read-only transactions, so memory stays flat on any table size."""

    def __init__(self, connection: aiomysql.Connection, fetch_size: int, target: Target) -> None:
        self.connection = connection
        self.fetch_size = fetch_size
        self.target = target
        self.database = target.database

    @classmethod
    async def open(
        cls, target: Target, *, password: str, ssl: Any, fetch_size: int
    ) -> MySQLSession:
        connection = _Connection(
            host=target.host,
            port=target.port,
            user=target.user,
            password=password,
            db=target.database,
            charset="utf8mb4",
            connect_timeout=target.timeout,
            autocommit=True,
            init_command=_INIT,
            ssl=ssl or None,
            program_name="sluice",
        )
        try:
            await connection._connect()  # what aiomysql.connect() does, with our class
        except Exception as exc:
            connection.close()
            raise translate(exc, target) from None
        if ssl and not connection._secure:  # belt and braces: never carry on in clear
            connection.close()
            raise translate(ServerWithoutTLS(), target)
        return cls(connection, fetch_size, target)

    async def _fetch(self, query: str, args: Any = None) -> list[tuple[Any, ...]]:
        try:
            async with self.connection.cursor() as cursor:
                await cursor.execute(query, args)
                return list(await cursor.fetchall())
        except (pymysql.err.MySQLError, OSError) as exc:
            raise self._error(exc, "the catalogue", None) from None

    def _error(self, exc: BaseException, what: str, rows: int | None) -> Exception:
        """A lost connection is told apart from the server refusing a query: the driver
        closes the connection after the first, not after the second."""
        if self.connection.closed or error_code(exc) in CONNECTION_LOST_CODES:
            return lost(exc, self.target, what, rows)
        return translate(exc, self.target)

    async def server_version(self) -> str:
        return self.connection.get_server_info()

    async def list_tables(self) -> list[str]:
        rows = await self._fetch(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
            (self.database,),
        )
        return [row[0] for row in rows]

    async def table_exists(self, table: str) -> bool:
        rows = await self._fetch(
            "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            (self.database, table),
        )
        return bool(rows)

    async def probe_table(self, table: str) -> None:
        """Read nothing from the table; raises TableNotFound or InsufficientPrivileges."""
        await self._fetch(f"SELECT 1 FROM {self.qualified(table)} LIMIT 0")

    async def row_count(self, table: str) -> int:
        """Rows in `table`: information_schema's estimate for big tables (instant), an
        exact count otherwise (cheap at that size). Only for progress, never for safety."""
        rows = await self._fetch(
            "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = %s",
            (self.database, table),
        )
        estimate = int(rows[0][0]) if rows and rows[0][0] is not None else -1
        if estimate >= EXACT_COUNT_BELOW:
            return estimate
        rows = await self._fetch(f"SELECT COUNT(*) FROM {self.qualified(table)}")
        return int(rows[0][0])

    def qualified(self, table: str) -> str:
        return f"{quote_ident(self.database)}.{quote_ident(table)}"

    async def primary_key(self, table: str) -> list[str]:
        """The key columns as Elastic's connector finds them (its ids depend on it): the
        columns marked `PRI`, in table order (not key order). Without a PRIMARY KEY, the
        server marks the columns of a UNIQUE NOT NULL index so."""
        rows = await self._fetch(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = %s AND COLUMN_KEY = 'PRI' ORDER BY ORDINAL_POSITION",
            (self.database, table),
        )
        return [row[0] for row in rows]

    async def column_types(self, table: str) -> list[tuple[str, str]]:
        rows = await self._fetch(
            "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
            (self.database, table),
        )
        return [(row[0], str(row[1]).lower()) for row in rows]

    async def columns(self, table: str) -> list[str]:
        return [name for name, _type in await self.column_types(table)]

    async def table_rows(
        self,
        table: str,
        *,
        since_column: str | None = None,
        since: Any = None,
        key: Sequence[str] = (),
        after: Sequence[Any] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        selected = ", ".join(
            f"ST_AsText({quote_ident(name)}) AS {quote_ident(name)}"
            if kind in SPATIAL_TYPES
            else quote_ident(name)
            for name, kind in await self.column_types(table)
        )
        query = f"SELECT {selected} FROM {self.qualified(table)}"
        args: tuple[Any, ...] | None = None
        if key:
            columns = ", ".join(quote_ident(k) for k in key)
            if after is not None:
                query += f" WHERE ({columns}) > ({', '.join('%s' for _ in key)})"
                args = tuple(after)
            query += f" ORDER BY {columns}"
        elif since_column is not None:
            column = quote_ident(since_column)
            if since is not None:
                query += f" WHERE {column} >= %s"
                args = (since,)
            query += f" ORDER BY {column}"
        async for row in self._stream(f"table {table}", query, args):
            yield row

    def query_rows(self, query: str) -> AsyncIterator[dict[str, Any]]:
        return self._stream("a custom query", query, None)

    async def check_query(self, query: str) -> str | None:
        """Why the server would refuse the query (EXPLAIN, not run), or None."""
        try:
            await self._fetch(f"EXPLAIN {query}")
        except Exception as exc:
            return str(exc)
        return None

    async def _stream(self, what: str, query: str, args: Any) -> AsyncIterator[dict[str, Any]]:
        """Rows of `query`; `what` ("table orders") names it if the connection is lost,
        with how many rows had been read."""
        finished = False
        rows_read = 0
        try:
            async with self.connection.cursor() as control:
                await control.execute("START TRANSACTION READ ONLY")
            cursor = await self.connection.cursor(aiomysql.SSCursor)
            try:
                await cursor.execute(query, args)
            except pymysql.err.MySQLError as exc:
                if _refused(exc):  # an error packet: no rows pending, the connection is fine
                    finished = True
                    with contextlib.suppress(pymysql.err.MySQLError, OSError):
                        async with self.connection.cursor() as control:
                            await control.execute("ROLLBACK")
                raise
            names = [column[0] for column in cursor.description]
            kinds = [column[1] for column in cursor.description]
            widths = [column[3] or 0 for column in cursor.description]
            while True:
                rows = await cursor.fetchmany(self.fetch_size)
                if not rows:
                    break
                for row in rows:
                    yield {
                        name: _normalise(value, kind, width)
                        for name, kind, width, value in zip(names, kinds, widths, row, strict=True)
                    }
                    rows_read += 1
            await cursor.close()
            async with self.connection.cursor() as control:
                await control.execute("COMMIT")
            finished = True
        except (pymysql.err.MySQLError, OSError) as exc:
            raise self._error(exc, what, rows_read) from None
        finally:
            if not finished:
                # Unread rows of an unbuffered result would have to be read to free the
                # connection: closing it is faster, and the session is ending anyway.
                self.connection.close()

    async def close(self) -> None:
        if not self.connection.closed:
            try:
                await self.connection.ensure_closed()
            except Exception:
                self.connection.close()


def _refused(exc: pymysql.err.MySQLError) -> bool:
    """True for an error the server answered (codes below 2000; 2000+ are the client's own,
    like 2013 "Lost connection"), after which the connection can run the next query."""
    code = error_code(exc)
    return code is not None and code < 2000 and code not in CONNECTION_LOST_CODES


def _normalise(value: Any, kind: int, width: int) -> Any:
    """Driver values made unambiguous: TIMESTAMP in UTC, BIT told apart from binary strings
    (`Bits`, with the column's width). JSON stays the server's text, as in Elastic's
    documents (an object there would clash with the text field Elastic's documents map)."""
    if value is None:
        return None
    if kind == FIELD_TYPE.TIMESTAMP and isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    if kind == FIELD_TYPE.BIT and isinstance(value, bytes):
        return Bits(value, width)
    return value
