"""PyMySQL/aiomysql errors to Sluice's typed, actionable source errors."""

from __future__ import annotations

from dataclasses import dataclass

import pymysql

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

SERVER = "MySQL"
CREDENTIAL_FIELDS = ("user", "password")

# Server and client error numbers (mysqld_error.h, errmsg.h).
ER_DBACCESS_DENIED = 1044
ER_ACCESS_DENIED = 1045
ER_BAD_DB = 1049
ER_HOST_NOT_PRIVILEGED = 1130
ER_TABLEACCESS_DENIED = 1142
ER_COLUMNACCESS_DENIED = 1143
ER_NO_SUCH_TABLE = 1146
ER_SPECIFIC_ACCESS_DENIED = 1227
ER_TOO_MANY_CONNECTIONS = 1040
CR_CONN_HOST_ERROR = 2003
CR_SSL_CONNECTION_ERROR = 2026
ER_SERVER_SHUTDOWN = 1053
ER_CONNECTION_KILLED = 1927  # MariaDB
CR_SERVER_GONE_ERROR = 2006
CR_SERVER_LOST = 2013
#: Errors that end the connection, whether the server said so or the driver noticed.
CONNECTION_LOST_CODES = frozenset(
    {ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED, CR_SERVER_GONE_ERROR, CR_SERVER_LOST}
)


class ServerWithoutTLS(Exception):
    """Raised before authentication when TLS is required and the server offers none, so
    no credentials go over an unencrypted connection."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    user: str
    database: str
    timeout: float


def error_code(exc: BaseException) -> int | None:
    if isinstance(exc, pymysql.err.MySQLError) and exc.args and isinstance(exc.args[0], int):
        return exc.args[0]
    return None


def translate(exc: BaseException, target: Target) -> SourceError:
    """The SourceError that explains `exc` and says what to do."""
    if isinstance(exc, SourceError):
        return exc
    where = f"{SERVER} at {target.host}:{target.port}"
    user, database = target.user, target.database
    grant = f"GRANT SELECT ON `{database}`.* TO '{user}'@'%';"
    if isinstance(exc, ServerWithoutTLS):
        return TLSError(
            f"{where} does not offer TLS.",
            "Turn off 'Enable SSL', or enable TLS on the server (ssl_cert, ssl_key in my.cnf).",
            fields=TLS_FIELDS,
        )
    code = error_code(exc)
    message = exc.args[1] if code is not None and len(exc.args) > 1 else str(exc)
    if code == ER_ACCESS_DENIED:
        return AuthenticationError(
            f"{where} rejected user '{user}' with this password.",
            "Check 'Username' and 'Password' (and that the user exists for this host).",
            fields=CREDENTIAL_FIELDS,
        )
    if code == ER_HOST_NOT_PRIVILEGED:
        return AuthenticationError(
            f"{where} does not let this machine connect: {message}.",
            f"Create the user for this client host, e.g. CREATE USER '{user}'@'%' ...",
            fields=CREDENTIAL_FIELDS,
        )
    if code == ER_BAD_DB:
        return DatabaseNotFoundError(
            f"The database '{database}' does not exist on {where}.",
            "Check 'Database' (SHOW DATABASES lists them; names may be case-sensitive).",
            fields=["database"],
        )
    if code == ER_DBACCESS_DENIED:
        return InsufficientPrivilegesError(
            f"User '{user}' may not use database '{database}' (or it does not exist).",
            f"Check 'Database', and grant read access: {grant}",
            fields=["user", "database"],
        )
    if code in (ER_TABLEACCESS_DENIED, ER_COLUMNACCESS_DENIED, ER_SPECIFIC_ACCESS_DENIED):
        return InsufficientPrivilegesError(
            f"User '{user}' lacks a privilege: {message}.",
            f"Grant read access, e.g. {grant}",
            fields=["user", "tables"],
        )
    if code == ER_NO_SUCH_TABLE:
        return TableNotFoundError(
            f"A table does not exist: {message}.",
            "Check 'Comma-separated list of tables' (names may be case-sensitive).",
            fields=["tables"],
        )
    if code == ER_TOO_MANY_CONNECTIONS:
        return ConnectionProblemError(
            f"{where} has too many connections.",
            "Try again later, or raise max_connections on the server.",
            fields=HOST_FIELDS,
        )
    network = connection_error(
        exc, server=SERVER, host=target.host, port=target.port, timeout=target.timeout
    )
    if network is not None:
        return network
    if code == CR_SSL_CONNECTION_ERROR:
        return TLSError(
            f"The TLS connection to {where} failed: {message}.",
            "Check 'SSL certificate' and that the server has TLS enabled.",
            fields=TLS_FIELDS,
        )
    if code == CR_CONN_HOST_ERROR:
        return ConnectionProblemError(
            f"{where} cannot be reached: {message}.",
            "Check 'Host' and 'Port'.",
            fields=HOST_FIELDS,
        )
    if code is not None:
        return SourceError(f"{where} reported error {code}: {message}.")
    return ConnectionProblemError(
        f"Talking to {where} failed: {type(exc).__name__}: {exc}.",
        "Check 'Host', 'Port' and the TLS settings.",
        fields=HOST_FIELDS,
    )


def lost(exc: BaseException, target: Target, what: str, rows: int | None) -> ConnectionLostError:
    """The error for a connection that closed while reading (KILL, a server restart, a
    network cut), with the server's or the driver's reason."""
    chain = causes(exc)
    reason = next((e for e in chain if error_code(e)), chain[0])  # 0: the driver's own
    code = error_code(reason)
    if code and len(reason.args) > 1:
        text = f"{reason.args[1]} (error {code})"
    elif isinstance(reason, OSError):
        text = reason.strerror or str(reason)
    else:
        text = reason.args[1] if code == 0 and len(reason.args) > 1 else str(reason)
    return connection_lost(
        server=SERVER, host=target.host, port=target.port, what=what, rows=rows, reason=text
    )
