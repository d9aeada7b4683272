"""What the PostgreSQL and MySQL sources share: the sync flow over tables or custom
queries, incremental syncs from a modification-time column, documents and their ids.

A driver-specific `SQLSession` does the talking; a subclass of `SQLSource` opens it and
decides how documents are named (Elastic's PostgreSQL and MySQL connectors differ).
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sluice.core.engine.checkpoint import continue_at
from sluice.core.engine.source import Operation, Scope
from sluice.sources.base import (
    BaseSource,
    Document,
    SourceFailure,
    SourceItem,
    advanced_rules,
    source_failure,
)
from sluice.sources.database.cursor import later, make_cursor, marks_of
from sluice.sources.database.ids import row_hash_id, row_id
from sluice.sources.database.rules import QueryRule, parse_query_rules, validate_query_rules
from sluice.sources.database.tables import configured_tables, is_wildcard
from sluice.sources.database.values import Converter, convert_row
from sluice.sources.errors import (
    AdvancedRulesError,
    HostUnreachableError,
    InsufficientPrivilegesError,
    TableNotFoundError,
)

DEFAULT_FETCH_SIZE = 500
DEFAULT_RETRY_COUNT = 3
DEFAULT_CONNECT_TIMEOUT = 10


class SQLSession(Protocol):
    """One connection to the server, with the few operations a sync needs."""

    async def list_tables(self) -> list[str]: ...

    async def table_exists(self, table: str) -> bool: ...

    async def primary_key(self, table: str) -> list[str]: ...

    async def columns(self, table: str) -> list[str]: ...

    async def row_count(self, table: str) -> int: ...

    def table_rows(
        self,
        table: str,
        *,
        since_column: str | None = None,
        since: Any = None,
        key: Sequence[str] = (),
        after: Sequence[Any] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """The table's rows: changed since `since` (by `since_column`, in its order), or
        all of them in the order of `key` — after the row whose key is `after` (keyset: a
        stopped sync continues there)."""
        ...

    def query_rows(self, query: str) -> AsyncIterator[dict[str, Any]]: ...

    async def close(self) -> None: ...


def common_fields(order: int) -> dict[str, dict[str, Any]]:
    """Sluice's extra settings, after Elastic's: the incremental column and a timeout."""
    return {
        "modified_column": {
            "label": "Modification time column (for incremental syncs)",
            "order": order,
            "type": "str",
            "display": "text",
            "required": False,
            "value": "",
            "tooltip": "A column every table updates on change (e.g. updated_at). Incremental "
            "syncs then read only rows changed since the last sync. Deleted rows are removed "
            "by full syncs only.",
        },
        "connect_timeout": {
            "label": "Connection timeout (seconds)",
            "order": order + 1,
            "type": "int",
            "display": "numeric",
            "required": False,
            "value": DEFAULT_CONNECT_TIMEOUT,
            "default_value": DEFAULT_CONNECT_TIMEOUT,
            "validations": [{"type": "greater_than", "constraint": 0}],
            "ui_restrictions": ["advanced"],
        },
    }


#: The driver's session type, so a subclass's own checks see its driver-specific methods.
S = TypeVar("S", bound=SQLSession)


class SQLSource(BaseSource, Generic[S]):
    """Base of the SQL sources. One document per row; see the README of sources/.

    A table the user may not read does not fail the sync: it becomes a failure record
    scoped to the table (`scope_field` of its documents), so the other tables sync and a
    full sync keeps that table's indexed rows instead of deleting them. A connection lost
    mid-read fails the whole sync (nothing is deleted).
    """

    advanced_rules_enabled = True
    incremental_sync_enabled = True
    #: A row without a modification column gets the sync's start as `_timestamp`: no change.
    volatile_fields = ("_timestamp",)
    #: The document field that holds the (single) table a row came from; see `metadata`.
    scope_field: ClassVar[str] = "table"

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        super().__init__(configuration)
        self.tables = configured_tables(self.values.get("tables"))
        self.fetch_size = _positive(self.values.get("fetch_size"), DEFAULT_FETCH_SIZE)
        retries = self.values.get("retry_count")
        self.retry_count = retries if isinstance(retries, int) and retries >= 0 else 3
        self.connect_timeout = _positive(
            self.values.get("connect_timeout"), DEFAULT_CONNECT_TIMEOUT
        )
        self.modified_column = (self.values.get("modified_column") or "").strip()
        self._sync_started = _now()
        self._warned_no_key: set[str] = set()

    # ------------------------------------------------------------ driver hooks

    @abstractmethod
    async def open_session(self) -> S:
        """Connect; raise the typed errors of `sources.errors`."""

    @abstractmethod
    def table_key(self, table: str) -> str:
        """How a table is named in cursors and messages (`schema.table`, `table`)."""

    def field_names(self, tables: Sequence[str], columns: Sequence[str]) -> list[str]:
        """Document field names of result columns (Elastic's convention per source)."""
        return list(columns)

    def id_prefix(self) -> str:
        return ""

    def key_text(self, value: Any) -> str:
        """A primary-key value as it appears in `_id`: `str()` of the driver's value, as
        Elastic's connectors write it."""
        return str(value)

    def query_keys(self, keys: list[str]) -> list[str]:
        """The key columns identifying a custom query's rows when the rule names no
        `id_columns`: the tables' primary keys, in the order Elastic's connector uses."""
        return keys

    def metadata(self, tables: Sequence[str], *, query: bool) -> dict[str, Any]:
        """Fields added to every row's document (Elastic's `table`/`Table`, ...); `query`:
        the row comes from an advanced-rule query over `tables`."""
        return {}

    special_values: Converter | None = None

    def grant_hint(self, table: str) -> str:
        """How to let the configured user read `table` (the sources give the GRANT)."""
        return f"grant the user SELECT on {self.table_key(table)}"

    # ------------------------------------------------------------ sessions

    @asynccontextmanager
    async def session(self) -> AsyncIterator[S]:
        """A connection, retried `retry_count` times with backoff while the host is
        unreachable (a restarting server); other errors are final at once."""
        attempt = 0
        while True:
            try:
                session = await self.open_session()
                break
            except HostUnreachableError:
                if attempt >= self.retry_count:
                    raise
                await asyncio.sleep(min(2**attempt, 10))
                attempt += 1
        try:
            yield session
        finally:
            await session.close()

    async def ping(self) -> None:
        session = await self.open_session()
        await session.close()

    # ------------------------------------------------------------ rules

    def advanced_rules_validate(self, rules: Any) -> list[str]:
        if rules in (None, "", [], {}):
            return []
        return validate_query_rules(rules)

    def _rules(self, filtering: Mapping[str, Any] | None) -> list[QueryRule]:
        rules = advanced_rules(filtering)
        if rules is None:
            return []
        problems = self.advanced_rules_validate(rules)
        if problems:
            raise AdvancedRulesError(problems)
        return parse_query_rules(rules)

    # ------------------------------------------------------------ full sync

    async def get_docs(
        self, filtering: Mapping[str, Any] | None = None
    ) -> AsyncIterator[SourceItem]:
        """Every row. With a modification column, the marks seen become `self.sync_cursor`,
        so the next incremental sync starts where this full one ended."""
        rules = self._rules(filtering)
        self._sync_started = _now()
        column = self.modified_column
        marks: dict[str, Any] = {}
        async with self.session() as session:
            if rules:
                for number, rule in enumerate(rules, start=1):
                    async for document in self._query_documents(session, rule, number):
                        yield document
                return
            tables = await self._tables(session)
            start, after = self._resume_point([self.table_key(t) for t in tables])
            for table in tables[start:]:
                key = self.table_key(table)
                try:
                    rows = self._table_documents(session, table, after=after, ordered=True)
                    async for document, mark, values in rows:
                        if column:
                            marks[key] = later(marks.get(key), mark)
                        self._position = {"table": key, "after": values, "done": False}
                        yield document
                except InsufficientPrivilegesError as exc:
                    self._position = {"table": key, "after": None, "done": True}
                    yield self._unreadable_table(table, exc)
                after = None
                self._position = {"table": key, "after": None, "done": True}
        self.sync_cursor = make_cursor(column, marks) if column else None

    # A full read continues after a checkpoint's row (`core.engine.checkpoint`): tables are
    # read in order, each in the order of its primary key, so a position is a table and the
    # key of its last row read (None for a table without a usable key: it is read again).
    _position: dict[str, Any] | None = None
    _resume: dict[str, Any] | None = None

    def read_position(self) -> Any:
        return self._position

    def resume_after(self, position: Any) -> None:
        self._resume = position if isinstance(position, dict) else None

    def _resume_point(self, keys: Sequence[str]) -> tuple[int, list[Any] | None]:
        """Where a resumed full read starts: the index of the first table to read and the
        key to read it after. A position naming a table no longer listed starts over."""
        resume, self._resume = self._resume, None
        index, after = continue_at(resume, keys, "table", "after")
        return index, list(after) if isinstance(after, list) else None

    async def count_documents(self, filtering: Mapping[str, Any] | None = None) -> int | None:
        """How many documents a full sync yields (for progress and ETA), on a connection of
        its own; None with custom queries, whose size is unknown until they run."""
        if self._rules(filtering):
            return None
        async with self.session() as session:
            total = 0
            for table in await self._tables(session):
                with contextlib.suppress(InsufficientPrivilegesError):  # not read either
                    total += await session.row_count(table)
            return total

    async def _tables(self, session: S) -> list[str]:
        """The tables to sync; an explicitly listed table that is missing fails the sync
        (so a full sync never deletes its documents because of a typo or a rename)."""
        if is_wildcard(self.tables):
            return await session.list_tables()
        missing = [table for table in self.tables if not await session.table_exists(table)]
        if missing:
            raise self.missing_tables_error(missing)
        return list(self.tables)

    def missing_tables_error(self, missing: Sequence[str]) -> TableNotFoundError:
        names = ", ".join(self.table_key(table) for table in missing)
        return TableNotFoundError(
            f"Table(s) not found: {names}.",
            "Check the spelling and case in 'Comma-separated list of tables', or use * for "
            "every table.",
            fields=["tables"],
        )

    async def _table_documents(
        self,
        session: S,
        table: str,
        since: Any = None,
        *,
        after: list[Any] | None = None,
        ordered: bool = False,
    ) -> AsyncIterator[tuple[Document, Any, list[Any] | None]]:
        """`(document, modification mark, key values)` for the rows of one table. `ordered`:
        a full read, in primary-key order (after the key `after`), whose key values are
        positions to continue from; None where they cannot be (no key, or one whose values
        would not come back from JSON as they were: only integers and text do)."""
        keys = await session.primary_key(table)
        columns = await session.columns(table)
        modified = self.modified_column if self.modified_column in columns else None
        if not keys:
            self._warn_no_key(self.table_key(table))
        names = dict(zip(columns, self.field_names([table], columns), strict=True))
        if ordered and keys:
            usable = after is not None and len(after) == len(keys)
            rows = session.table_rows(table, key=keys, after=after if usable else None)
        else:
            rows = session.table_rows(table, since_column=modified, since=since)
        async for row in rows:
            mark = row.get(modified) if modified else None
            values = [row.get(k) for k in keys] if ordered and keys else None
            if values is not None and not all(_portable(v) for v in values):
                values = None
            yield self._document([table], row, keys, names, mark), mark, values

    async def _query_documents(
        self, session: S, rule: QueryRule, number: int
    ) -> AsyncIterator[Document]:
        missing = [table for table in rule.tables if not await session.table_exists(table)]
        if missing:
            raise self.missing_tables_error(missing)
        keys = list(rule.id_columns)
        if not keys:
            for table in rule.tables:
                keys.extend(await session.primary_key(table))
            keys = self.query_keys(keys)
        names: dict[str, str] | None = None
        async for row in session.query_rows(rule.query):
            if names is None:
                absent = [key for key in keys if key not in row]
                if absent:
                    raise AdvancedRulesError(
                        [
                            f"Rule {number}: the query returns no column {', '.join(absent)} "
                            "to identify rows; select it, or name the identifying columns in "
                            "'id_columns'."
                        ]
                    )
                names = dict(zip(row, self.field_names(rule.tables, list(row)), strict=True))
                if not keys:
                    self._warn_no_key(" + ".join(rule.tables))
            mark = row.get(self.modified_column)
            yield self._document(list(rule.tables), row, keys, names, mark, query=True)

    def _document(
        self,
        tables: Sequence[str],
        row: Mapping[str, Any],
        keys: Sequence[str],
        names: Mapping[str, str],
        mark: Any,
        *,
        query: bool = False,
    ) -> Document:
        converted = convert_row(dict(row), self.special_values)
        if keys:
            identifier = row_id(tables, row, keys, self.key_text)
        else:
            identifier = row_hash_id(tables, converted)
        document: Document = {
            names.get(column, column): value for column, value in converted.items()
        }
        document.update(self.metadata(tables, query=query))
        document["_id"] = self.id_prefix() + identifier
        document["_timestamp"] = _timestamp(mark) or self._sync_started
        return document

    def _unreadable_table(self, table: str, exc: InsufficientPrivilegesError) -> SourceFailure:
        """A table the user may not read: a failure for the job, scoped to the table's
        documents so a full sync keeps them."""
        key = self.table_key(table)
        self.logger.warning("Cannot read %s (%s); its rows are left out.", key, exc.problem)
        reason = (
            f"{exc.problem.rstrip('.')}; its rows are left out and their indexed documents "
            f"kept: {self.grant_hint(table)}"
        )
        return source_failure(key, reason, "read", Scope(self.scope_field, table))

    def _warn_no_key(self, table: str) -> None:
        if table not in self._warned_no_key:
            self._warned_no_key.add(table)
            self.logger.warning(
                "%s has no primary key: each row is identified by a hash of all its values. "
                "An updated row becomes a new document (the old one is removed by the next "
                "full sync) and identical rows become one document. Add a primary key, or "
                "use advanced rules with 'id_columns', for stable ids.",
                table,
            )

    # ------------------------------------------------------------ incremental sync

    def supports_incremental_sync(self) -> bool:
        return bool(self.modified_column)

    async def get_docs_incrementally(
        self, sync_cursor: Any, filtering: Mapping[str, Any] | None = None
    ) -> AsyncIterator[tuple[SourceItem, Operation]]:
        """Rows changed since the cursor, as INDEX operations; `self.sync_cursor` is set
        when the iteration ends. Rows are compared with `>=` the last mark, so rows that
        share the last timestamp are read again rather than missed. Without a modification
        column (or for tables lacking it, and for advanced-rule queries) every row is
        yielded. Deleted rows are not seen: a full sync removes them."""
        rules = self._rules(filtering)
        column = self.modified_column
        marks = marks_of(sync_cursor, column) if column else {}
        new_marks = dict(marks)
        self._sync_started = _now()
        async with self.session() as session:
            if rules:
                for number, rule in enumerate(rules, start=1):
                    async for document in self._query_documents(session, rule, number):
                        yield document, Operation.INDEX
            else:
                for table in await self._tables(session):
                    key = self.table_key(table)
                    since = marks.get(key)
                    try:
                        rows = self._table_documents(session, table, since)
                        async for document, mark, _ in rows:
                            new_marks[key] = later(new_marks.get(key), mark)
                            yield document, Operation.INDEX
                    except InsufficientPrivilegesError as exc:
                        # not a document: the engine records it (the operation is unused)
                        yield self._unreadable_table(table, exc), Operation.INDEX
        self.sync_cursor = make_cursor(column, new_marks) if column else None


def _timestamp(mark: Any) -> str | None:
    if isinstance(mark, datetime):
        return (mark if mark.tzinfo else mark.replace(tzinfo=UTC)).isoformat()
    if isinstance(mark, date):
        return datetime(mark.year, mark.month, mark.day, tzinfo=UTC).isoformat()
    return None


def _portable(value: Any) -> bool:
    """A key value that comes back from the job record's JSON as it was."""
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _positive(value: Any, default: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )
