"""asyncpg exceptions to Sluice's typed, actionable source errors."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from sluice.sources.database.network import (
    HOST_FIELDS,
    TLS_FIELDS,
    ConnectionLostError,
    causes,
    connection_error,
    connection_lost,
)
from sluice.sources.errors import (
    AuthenticationError,
    ConnectionProblemError,
    DatabaseNotFoundError,
    InsufficientPrivilegesError,
    SourceError,
    TableNotFoundError,
    TLSError,
)

SERVER = "PostgreSQL"
CREDENTIAL_FIELDS = ("username", "password")


@dataclass(frozen=True)
class Target:
    """Where we connect, for messages (never the password)."""

    host: str
    port: int
    user: str
    database: str
    timeout: float


def translate(exc: BaseException, target: Target) -> SourceError:
    """The SourceError that explains `exc` and says what to do."""
    if isinstance(exc, SourceError):
        return exc
    where = f"{SERVER} at {target.host}:{target.port}"
    user, database = target.user, target.database
    if isinstance(exc, asyncpg.InvalidPasswordError):
        return AuthenticationError(
            f"{where} rejected the password of user '{user}'.",
            "Check 'Username' and 'Password' (a role that does not exist gets the same answer).",
            fields=CREDENTIAL_FIELDS,
        )
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        message = str(exc)
        if "pg_hba.conf" in message:
            fix = (
                f"Allow user '{user}' on database '{database}' from this machine in the "
                "server's pg_hba.conf (then reload it), or connect as another user."
            )
            if "SSL off" in message or "no encryption" in message:
                fix = (
                    "The server only accepts TLS connections here: "
                    "turn on 'Enable SSL verification'."
                )
                return TLSError(
                    f"{where} refused the connection: {message}.", fix, fields=TLS_FIELDS
                )
        else:
            fix = "Check 'Username': the role must exist and be allowed to log in (LOGIN)."
        return AuthenticationError(
            f"{where} refused user '{user}': {message}.", fix, fields=CREDENTIAL_FIELDS
        )
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return DatabaseNotFoundError(
            f"The database '{database}' does not exist on {where}.",
            "Check 'Database' (names are case-sensitive); list them with \\l in psql.",
            fields=["database"],
        )
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return InsufficientPrivilegesError(
            f"User '{user}' lacks a privilege on {where}: {exc}.",
            f'Grant it, e.g. GRANT CONNECT ON DATABASE "{database}" TO "{user}"; '
            f'GRANT USAGE ON SCHEMA ... TO "{user}"; GRANT SELECT ON ... TO "{user}".',
            fields=["username"],
        )
    if isinstance(exc, asyncpg.UndefinedTableError):
        return TableNotFoundError(
            f"A table does not exist: {exc}.",
            "Check 'Comma-separated list of tables' and 'Schema'.",
            fields=["tables"],
        )
    if isinstance(exc, asyncpg.InvalidSchemaNameError):
        return DatabaseNotFoundError(
            f"A schema does not exist: {exc}.", "Check 'Schema'.", fields=["schema"]
        )
    if isinstance(exc, (asyncpg.TooManyConnectionsError, asyncpg.CannotConnectNowError)):
        return ConnectionProblemError(
            f"{where} does not accept connections now: {exc}.",
            "Try again later, or raise max_connections on the server.",
            fields=HOST_FIELDS,
        )
    if isinstance(exc, ConnectionError) and "rejected SSL upgrade" in str(exc):
        return TLSError(
            f"{where} does not offer TLS.",
            "Turn off 'Enable SSL verification', or enable TLS on the server (ssl = on in "
            "postgresql.conf, with a certificate).",
            fields=TLS_FIELDS,
        )
    network = connection_error(
        exc, server=SERVER, host=target.host, port=target.port, timeout=target.timeout
    )
    if network is not None:
        return network
    if isinstance(exc, asyncpg.PostgresError):
        return SourceError(f"{where} reported an error: {exc}.")
    return ConnectionProblemError(
        f"Connecting to {where} failed: {type(exc).__name__}: {exc}.",
        "Check 'Host', 'Port' and the TLS settings.",
        fields=HOST_FIELDS,
    )


def lost(exc: BaseException, target: Target, what: str, rows: int | None) -> ConnectionLostError:
    """The error for a connection that closed while reading (`pg_terminate_backend`, a
    server restart, a network cut), with the server's reason when it sent one in answer to
    a request; a session ended between two fetches leaves asyncpg with no reason at all
    (its own "another operation is in progress" would only mislead)."""
    chain = causes(exc)
    said = [e for e in chain if isinstance(e, asyncpg.PostgresError)]
    server_said = [e for e in said if not isinstance(e, asyncpg.PostgresConnectionError)]
    network = [e.strerror or str(e) for e in chain if isinstance(e, OSError)]
    text = next(iter([str(e) for e in server_said or said] + network), "")
    return connection_lost(
        server=SERVER, host=target.host, port=target.port, what=what, rows=rows, reason=text
    )
