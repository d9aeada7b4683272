"""Connection failures every network source shares: no route, refused, no answer, TLS."""

from __future__ import annotations

import socket
import ssl

from sluice.sources.errors import HostUnreachableError, SourceError, TLSError

HOST_FIELDS = ("host", "port")
TLS_FIELDS = ("ssl_enabled", "ssl_ca")


def tls_error(exc: BaseException, *, server: str, host: str, port: int) -> TLSError | None:
    """A TLSError for a failed handshake, or None when `exc` is not one."""
    where = f"{server} at {host}:{port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or str(exc)
        if "hostname" in str(reason).lower() or "match" in str(reason).lower():
            fix = (
                f"Connect with the host name written in the server's certificate, or have the "
                f"certificate reissued for '{host}'."
            )
        else:
            fix = (
                "Put the CA certificate that signed the server's certificate (PEM) in "
                "'SSL certificate'."
            )
        return TLSError(
            f"The TLS certificate of {where} is not trusted: {reason}.", fix, fields=TLS_FIELDS
        )
    if isinstance(exc, ssl.SSLError):
        return TLSError(
            f"The TLS handshake with {where} failed: {exc.reason or exc}.",
            "Check that the server has TLS enabled and that 'SSL certificate' is the right CA.",
            fields=TLS_FIELDS,
        )
    return None


def unreachable_error(
    exc: BaseException, *, server: str, host: str, port: int, timeout: float
) -> HostUnreachableError | None:
    """A HostUnreachableError for a failed TCP connection, or None when `exc` is not one."""
    if isinstance(exc, socket.gaierror):
        return HostUnreachableError(
            f"The host name '{host}' cannot be resolved.",
            "Check 'Host' (a typo? a name only known inside another network?).",
            fields=HOST_FIELDS,
        )
    if isinstance(exc, ConnectionRefusedError):
        return HostUnreachableError(
            f"Nothing accepts connections at {host}:{port}.",
            f"Check 'Host' and 'Port', and that {server} is running and listens on that "
            "address (listen_addresses / bind-address) for this machine.",
            fields=HOST_FIELDS,
        )
    if isinstance(exc, TimeoutError):
        return HostUnreachableError(
            f"{server} at {host}:{port} did not answer within {timeout:g} s.",
            "Check 'Host' and 'Port', and that no firewall drops traffic from this machine.",
            fields=HOST_FIELDS,
        )
    if isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError):
        return HostUnreachableError(
            f"{server} at {host}:{port} cannot be reached: {exc.strerror or exc}.",
            "Check 'Host', 'Port' and the network path from this machine.",
            fields=HOST_FIELDS,
        )
    return None


def connection_error(
    exc: BaseException, *, server: str, host: str, port: int, timeout: float
) -> SourceError | None:
    """The TLS or reachability error behind `exc` (or its causes), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        error = tls_error(current, server=server, host=host, port=port) or unreachable_error(
            current, server=server, host=host, port=port, timeout=timeout
        )
        if error is not None:
            return error
        current = current.__cause__ or current.__context__
    return None


class ConnectionLostError(SourceError):
    """The server closed the connection after the sync had started reading: not a connect
    failure (host, port and TLS were fine), so the fix is not in those settings."""


def connection_lost(
    *, server: str, host: str, port: int, what: str, rows: int | None, reason: str
) -> ConnectionLostError:
    """The error that reads "PostgreSQL closed the connection while reading table public.big
    after 1500 rows: terminating connection due to administrator command." — `what` is
    "table T" or "a custom query"; `rows` is None outside a read (a catalogue query)."""
    after = "" if rows is None else f" after {rows} row{'' if rows == 1 else 's'}"
    reason = reason.strip().rstrip(".") or "no reason given"
    # Rows are read only by syncs, and a sync that loses its source deletes nothing.
    again = "Try again" if rows is None else "Run the sync again; nothing was deleted"
    return ConnectionLostError(
        f"{server} closed the connection while reading {what}{after}: {reason}.",
        f"{again}. If it recurs, check the server's log (a restart, an administrator ending "
        "sessions, idle or statement timeouts) and the network between this machine and "
        f"{host}:{port}.",
    )


def causes(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from or while handling, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
