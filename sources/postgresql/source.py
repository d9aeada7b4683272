"""The `postgresql` source: one document per row of PostgreSQL tables.

Configuration keys are those of Elastic's PostgreSQL connector, then Sluice's extras.
Documents follow Elastic's shape so an index built by Elastic's service keeps working:
fields are `<schema>_<table>_<column>` (lower case), plus `database`, `table`, `schema`;
`_id` is `<database>_<schema>_<table>_<primary key values>`. The README of sources/ lists
the rules and the known value differences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    DatabaseNotFoundError,
    InsufficientPrivilegesError,
    TableNotFoundError,
)
from sluice.sources.postgresql.errors import SERVER, Target
from sluice.sources.postgresql.session import PostgreSQLSession, quote_ident
from sluice.sources.postgresql.values import postgres_value


class PostgreSQLSource(SQLSource[PostgreSQLSession]):
    """Rows of PostgreSQL tables (or of custom read-only queries)."""

    service_type = "postgresql"
    display_name = "PostgreSQL"
    description = "Rows of PostgreSQL tables or custom queries, one document per row."
    prerequisites = [
        "Network access from this machine to the server's host and port "
        "(listen_addresses, firewalls, and a pg_hba.conf line allowing this user from here).",
        "A read-only user: CREATE ROLE sluice_reader LOGIN PASSWORD '...';",
        "CONNECT on the database: GRANT CONNECT ON DATABASE <db> TO sluice_reader;",
        "USAGE on the schema and SELECT on the tables: GRANT USAGE ON SCHEMA <schema> TO "
        "sluice_reader; GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO sluice_reader;",
        "Primary keys on the tables (rows of tables without one are identified by a hash "
        "of their values).",
        "For incremental syncs: a modification-time column (e.g. updated_at) kept up to date "
        "by the application or a trigger.",
        "For TLS: ssl = on on the server, and the PEM of the CA that signed its certificate.",
    ]
    special_values = staticmethod(postgres_value)

    @classmethod
    def get_default_configuration(cls) -> dict[str, dict[str, Any]]:
        return {
            "host": {"label": "Host", "order": 1, "type": "str", "value": "", "required": True},
            "port": {
                "label": "Port",
                "order": 2,
                "type": "int",
                "display": "numeric",
                "value": 5432,
                "required": True,
                "validations": [
                    {"type": "greater_than", "constraint": 0},
                    {"type": "less_than", "constraint": 65536},
                ],
            },
            "username": {"label": "Username", "order": 3, "type": "str", "value": ""},
            "password": {
                "label": "Password",
                "order": 4,
                "type": "str",
                "sensitive": True,
                "value": "",
            },
            "database": {"label": "Database", "order": 5, "type": "str", "value": ""},
            "schema": {"label": "Schema", "order": 6, "type": "str", "value": "public"},
            "tables": {
                "label": "Comma-separated list of tables",
                "order": 7,
                "type": "list",
                "display": "textarea",
                "value": "*",
                "tooltip": "This configurable field is ignored when Advanced Sync Rules are "
                "used. * syncs every table of the schema.",
            },
            "fetch_size": {
                "label": "Rows fetched per request",
                "order": 8,
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
                "order": 9,
                "type": "int",
                "display": "numeric",
                "required": False,
                "value": DEFAULT_RETRY_COUNT,
                "default_value": DEFAULT_RETRY_COUNT,
                "validations": [{"type": "greater_than", "constraint": -1}],
                "ui_restrictions": ["advanced"],
            },
            "ssl_enabled": {
                "label": "Enable SSL verification",
                "order": 10,
                "type": "bool",
                "display": "toggle",
                "value": False,
            },
            "ssl_ca": {
                "label": "SSL certificate",
                "order": 11,
                "type": "str",
                "display": "textarea",
                "depends_on": [{"field": "ssl_enabled", "value": True}],
                "required": False,
                "value": "",
                "tooltip": "PEM of the CA that signed the server's certificate (or a path to "
                "a PEM file). Empty: the system's trusted CAs.",
            },
            **common_fields(order=12),
        }

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        super().__init__(configuration)
        self.schema = self.values.get("schema") or "public"
        self.database = self.values.get("database") or ""
        self.target = Target(
            host=self.values.get("host") or "",
            port=self.values.get("port") or 5432,
            user=self.values.get("username") or "",
            database=self.database,
            timeout=float(self.connect_timeout),
        )

    # ------------------------------------------------------------ naming (Elastic's)

    def table_key(self, table: str) -> str:
        return f"{self.schema}.{table}"

    def field_names(self, tables: Sequence[str], columns: Sequence[str]) -> list[str]:
        prefix = f"{self.schema.strip()}_" if self.schema.strip() else ""
        prefix += "_".join(sorted(tables)) + "_"
        return [f"{prefix}{column}".lower() for column in columns]

    def id_prefix(self) -> str:
        return f"{self.database}_{self.schema}_"

    def metadata(self, tables: Sequence[str], *, query: bool) -> dict[str, Any]:
        # Elastic writes the rule's list of tables for a custom query, even of one table.
        table: Any = list(tables) if query else tables[0]
        return {"database": self.database, "table": table, "schema": self.schema}

    def grant_hint(self, table: str) -> str:
        return (
            f"run GRANT SELECT ON {quote_ident(self.schema)}.{quote_ident(table)} TO "
            f"{quote_ident(self.target.user)};"
        )

    # ------------------------------------------------------------ connection

    async def open_session(self) -> PostgreSQLSession:
        ssl = client_context(self.values.get("ssl_ca")) if self.values.get("ssl_enabled") else False
        return await PostgreSQLSession.open(
            self.target,
            password=self.values.get("password") or "",
            schema=self.schema,
            ssl=ssl,
            fetch_size=self.fetch_size,
        )

    async def validate_config(self) -> None:
        """Local checks, then: the server answers, the credentials work, the database
        and schema exist and are usable, every table exists and is readable."""
        await super().validate_config()
        async with self.session() as session:
            if not await session.schema_exists():
                raise DatabaseNotFoundError(
                    f"The schema '{self.schema}' does not exist in database '{self.database}'.",
                    "Check 'Schema' (case-sensitive); list schemas with \\dn in psql.",
                    fields=["schema"],
                )
            if not await session.schema_usable():
                raise InsufficientPrivilegesError(
                    f"User '{self.target.user}' may not use schema '{self.schema}'.",
                    f"Run: GRANT USAGE ON SCHEMA {quote_ident(self.schema)} TO "
                    f"{quote_ident(self.target.user)};",
                    fields=["username", "schema"],
                )
            tables = await self._tables(session)
            if not tables and is_wildcard(self.tables):
                raise TableNotFoundError(
                    f"The schema '{self.schema}' of database '{self.database}' has no tables.",
                    "Check 'Schema' and 'Database', or create the tables first.",
                    fields=["tables", "schema"],
                )
            unreadable = [table for table in tables if not await session.can_select(table)]
            if unreadable:
                names = ", ".join(unreadable)
                raise InsufficientPrivilegesError(
                    f"User '{self.target.user}' may not read table(s) {names} "
                    f"of schema '{self.schema}'.",
                    f"Run: GRANT SELECT ON ALL TABLES IN SCHEMA {quote_ident(self.schema)} TO "
                    f"{quote_ident(self.target.user)}; (or GRANT SELECT on each table).",
                    fields=["username", "tables"],
                )
            await self._check_modified_column(session, tables)

    async def _check_modified_column(self, session: PostgreSQLSession, tables: list[str]) -> None:
        if not self.modified_column:
            return
        having = [t for t in tables if self.modified_column in await session.columns(t)]
        if not having:
            raise ConfigurationError(
                {
                    "modified_column": "'Modification time column' names "
                    f"'{self.modified_column}', which none of the tables has. "
                    "Check the column name, or leave it empty."
                }
            )
        for table in sorted(set(tables) - set(having)):
            self.logger.warning(
                "%s has no column %s: incremental syncs read all its rows.",
                self.table_key(table),
                self.modified_column,
            )

    async def validate_advanced_rules(self, rules: Any) -> list[str]:
        """Structure first, then against the server: the tables exist and every query
        parses and plans (it is prepared, not run)."""
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
