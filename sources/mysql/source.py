"""The `mysql` source: one document per row of MySQL or MariaDB tables.

Configuration keys are those of Elastic's MySQL connector, then Sluice's extras.
Documents follow Elastic's shape: the columns by name, plus `Table`; `_id` is
`<table>_<primary key values>` (`<tables sorted>_<id values>` for custom queries). The
README of sources/ lists the rules and the known value differences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sluice.sources.database.rules import parse_query_rules
from sluice.sources.database.source import (
    DEFAULT_FETCH_SIZE,
    DEFAULT_RETRY_COUNT,
    SQLSource,
    common_fields,
)
from sluice.sources.database.tables import is_wildcard
from sluice.sources.database.tls import client_context
from sluice.sources.errors import (
    ConfigurationError,
    InsufficientPrivilegesError,
    TableNotFoundError,
)
from sluice.sources.mysql.errors import SERVER, Target
from sluice.sources.mysql.session import MySQLSession, quote_ident
from sluice.sources.mysql.values import mysql_value


class MySQLSource(SQLSource[MySQLSession]):
    """Rows of MySQL/MariaDB tables (or of custom read-only queries)."""

    service_type = "mysql"
    display_name = "MySQL / MariaDB"
    description = "Rows of MySQL or MariaDB tables or custom queries, one document per row."
    prerequisites = [
        "Network access from this machine to the server's host and port (bind-address, firewalls).",
        "A read-only user allowed from this machine: CREATE USER 'sluice_reader'@'%' "
        "IDENTIFIED BY '...';",
        "SELECT on the database: GRANT SELECT ON `<db>`.* TO 'sluice_reader'@'%';",
        "Primary keys on the tables (rows of tables without one are identified by a hash "
        "of their values).",
        "For incremental syncs: a modification-time column, e.g. updated_at TIMESTAMP "
        "DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP.",
        "For TLS: TLS enabled on the server, and the PEM of the CA that signed its certificate.",
    ]

    @classmethod
    def get_default_configuration(cls) -> dict[str, dict[str, Any]]:
        return {
            "host": {"label": "Host", "order": 1, "type": "str", "value": ""},
            "port": {
                "label": "Port",
                "order": 2,
                "type": "int",
                "display": "numeric",
                "value": 3306,
                "validations": [
                    {"type": "greater_than", "constraint": 0},
                    {"type": "less_than", "constraint": 65536},
                ],
            },
            "user": {"label": "Username", "order": 3, "type": "str", "value": ""},
            "password": {
                "label": "Password",
                "order": 4,
                "type": "str",
                "sensitive": True,
                "value": "",
            },
            "database": {"label": "Database", "order": 5, "type": "str", "value": ""},
            "tables": {
                "label": "Comma-separated list of tables",
                "order": 6,
                "type": "list",
                "display": "textarea",
                "value": "*",
                "tooltip": "This configurable field is ignored when Advanced Sync Rules are "
                "used. * syncs every table of the database.",
            },
            "ssl_enabled": {
                "label": "Enable SSL",
                "order": 7,
                "type": "bool",
                "display": "toggle",
                "value": False,
            },
            "ssl_ca": {
                "label": "SSL certificate",
                "order": 8,
                "type": "str",
                "display": "textarea",
                "depends_on": [{"field": "ssl_enabled", "value": True}],
                "required": False,
                "value": "",
                "tooltip": "PEM of the CA that signed the server's certificate (or a path to "
                "a PEM file). Empty: the system's trusted CAs.",
            },
            "fetch_size": {
                "label": "Rows fetched per request",
                "order": 9,
                "type": "int",
                "display": "numeric",
                "required": False,
                "value": DEFAULT_FETCH_SIZE,
                "default_value": DEFAULT_FETCH_SIZE,
                "validations": [{"type": "greater_than", "constraint": 0}],
                "ui_restrictions": ["advanced"],
            },
            "retry_count": {
                "label": "Retries per request",
                "order": 10,
                "type": "int",
                "display": "numeric",
                "required": False,
                "value": DEFAULT_RETRY_COUNT,
                "default_value": DEFAULT_RETRY_COUNT,
                "validations": [{"type": "greater_than", "constraint": -1}],
                "ui_restrictions": ["advanced"],
            },
            **common_fields(order=11),
        }

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        super().__init__(configuration)
        self.database = self.values.get("database") or ""
        self.target = Target(
            host=self.values.get("host") or "",
            port=self.values.get("port") or 3306,
            user=self.values.get("user") or "",
            database=self.database,
            timeout=float(self.connect_timeout),
        )

    def table_key(self, table: str) -> str:
        return table

    scope_field = "Table"  # Elastic's MySQL connector names the field so

    special_values = staticmethod(mysql_value)

    def key_text(self, value: Any) -> str:
        """As Elastic's connector writes a key value: TIMESTAMP values (which the session
        reads in UTC) without an offset, as the driver returns them there."""
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        return str(value)

    def query_keys(self, keys: list[str]) -> list[str]:
        return sorted(keys)  # Elastic's connector sorts a custom query's key columns

    def metadata(self, tables: Sequence[str], *, query: bool) -> dict[str, Any]:
        # Elastic writes the rule's list of tables for a custom query, even of one table.
        return {"Table": list(tables) if query else tables[0]}

    def grant_hint(self, table: str) -> str:
        return (
            f"run GRANT SELECT ON {quote_ident(self.database)}.{quote_ident(table)} TO "
            f"'{self.target.user}'@'%';"
        )

    async def open_session(self) -> MySQLSession:
        ssl = client_context(self.values.get("ssl_ca")) if self.values.get("ssl_enabled") else None
        return await MySQLSession.open(
            self.target,
            password=self.values.get("password") or "",
            ssl=ssl,
            fetch_size=self.fetch_size,
        )

    async def _tables(self, session: MySQLSession) -> list[str]:
        """As the base class, but a listed table the user may not see is reported as a
        privilege problem, not as missing (MySQL hides such tables from the catalogue)."""
        if is_wildcard(self.tables):
            return await session.list_tables()
        missing: list[str] = []
        unreadable: list[str] = []
        for table in self.tables:
            if await session.table_exists(table):
                continue
            try:
                await session.probe_table(table)
            except TableNotFoundError:
                missing.append(table)
            except InsufficientPrivilegesError:
                unreadable.append(table)
        if missing:
            raise self.missing_tables_error(missing)
        if unreadable:
            raise self._unreadable_error(unreadable)
        return list(self.tables)

    def _unreadable_error(self, tables: list[str]) -> InsufficientPrivilegesError:
        return InsufficientPrivilegesError(
            f"User '{self.target.user}' may not read table(s) {', '.join(tables)}.",
            f"Run: GRANT SELECT ON `{self.database}`.* TO '{self.target.user}'@'%'; "
            "(or GRANT SELECT on each table).",
            fields=["user", "tables"],
        )

    async def validate_config(self) -> None:
        """Local checks, then: the server answers, the credentials work, the database
        exists and is usable, every table exists and is readable."""
        await super().validate_config()
        async with self.session() as session:
            tables = await self._tables(session)
            if not tables:
                raise TableNotFoundError(
                    f"The database '{self.database}' has no tables that user "
                    f"'{self.target.user}' can see.",
                    f"Create the tables, or grant access: GRANT SELECT ON `{self.database}`.* "
                    f"TO '{self.target.user}'@'%';",
                    fields=["tables"],
                )
            unreadable: list[str] = []
            for table in tables:
                try:
                    await session.probe_table(table)
                except InsufficientPrivilegesError:
                    unreadable.append(table)
            if unreadable:
                raise self._unreadable_error(unreadable)
            if self.modified_column:
                having = [t for t in tables if self.modified_column in await session.columns(t)]
                if not having:
                    raise ConfigurationError(
                        {
                            "modified_column": "'Modification time column' names "
                            f"'{self.modified_column}', which none of the tables has. Check "
                            "the column name, or leave it empty."
                        }
                    )

    async def validate_advanced_rules(self, rules: Any) -> list[str]:
        """Structure first, then against the server: the tables exist and every query is
        accepted by EXPLAIN (not run)."""
        problems = self.advanced_rules_validate(rules)
        if problems or rules in (None, "", [], {}):
            return problems
        async with self.session() as session:
            for number, rule in enumerate(parse_query_rules(rules), start=1):
                missing = [t for t in rule.tables if not await session.table_exists(t)]
                if missing:
                    problems.append(f"Rule {number}: tables not found: {', '.join(missing)}.")
                error = await session.check_query(rule.query)
                if error:
                    problems.append(f"Rule {number}: the query is refused by {SERVER}: {error}")
        return problems
