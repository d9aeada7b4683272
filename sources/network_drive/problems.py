"""SMB's answers, in words a person can act on, attached to the field at fault.

Status codes are NTSTATUS values ([MS-ERREF] 2.3); smbprotocol raises them as
`SMBResponseException` subclasses (during the session setup and the tree connect) or wraps
them in `SMBOSError.ntstatus` (opening a file or folder). A TCP connection that cannot be
made comes as a `ValueError` whose cause is the socket's error.
"""

from __future__ import annotations

import socket

from sluice.sources.errors import (
    AuthenticationError,
    HostUnreachableError,
    InsufficientPrivilegesError,
    PathNotFoundError,
    SourceError,
)

STATUS_ACCESS_DENIED = 0xC0000022
STATUS_OBJECT_NAME_NOT_FOUND = 0xC0000034
STATUS_OBJECT_PATH_NOT_FOUND = 0xC000003A
STATUS_NOT_FOUND = 0xC0000225
STATUS_NOT_A_DIRECTORY = 0xC0000103
STATUS_FILE_IS_A_DIRECTORY = 0xC00000BA
STATUS_BAD_NETWORK_NAME = 0xC00000CC
STATUS_LOGON_FAILURE = 0xC000006D
STATUS_ACCOUNT_RESTRICTION = 0xC000006E
STATUS_PASSWORD_EXPIRED = 0xC0000071
STATUS_ACCOUNT_DISABLED = 0xC0000072
STATUS_ACCOUNT_LOCKED_OUT = 0xC0000234
STATUS_PASSWORD_MUST_CHANGE = 0xC0000224
STATUS_ACCOUNT_EXPIRED = 0xC0000193
STATUS_SHARING_VIOLATION = 0xC0000043
STATUS_DELETE_PENDING = 0xC0000056

#: Answers after which a new connection may succeed.
TRANSIENT_STATUSES = frozenset(
    {
        0xC00000C9,  # STATUS_NETWORK_NAME_DELETED: the share was reconnected
        0xC0000203,  # STATUS_USER_SESSION_DELETED
        0xC000035C,  # STATUS_NETWORK_SESSION_EXPIRED
        0xC00000B5,  # STATUS_IO_TIMEOUT
        0xC000009A,  # STATUS_INSUFFICIENT_RESOURCES
        0xC00000D0,  # STATUS_REQUEST_NOT_ACCEPTED: too many connections right now
        0xC000020C,  # STATUS_CONNECTION_DISCONNECTED
        0xC000020D,  # STATUS_CONNECTION_RESET
    }
)
NOT_FOUND = frozenset(
    {STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_PATH_NOT_FOUND, STATUS_NOT_FOUND}
)

#: Why the server refused the logon, for the statuses other than a wrong user or password.
ACCOUNT_STATES = {
    STATUS_ACCOUNT_RESTRICTION: "the account may not log on this way (a blank password, or "
    "logon hours or workstations restricted)",
    STATUS_PASSWORD_EXPIRED: "the account's password has expired",
    STATUS_PASSWORD_MUST_CHANGE: "the account's password must be changed before it is used",
    STATUS_ACCOUNT_DISABLED: "the account is disabled",
    STATUS_ACCOUNT_LOCKED_OUT: "the account is locked out (too many wrong passwords)",
    STATUS_ACCOUNT_EXPIRED: "the account has expired",
}

NETWORK_FIELDS = ("server_ip", "server_port")
CREDENTIAL_FIELDS = ("username", "password")


def status_of(error: BaseException) -> int | None:
    """The NTSTATUS of an smbprotocol error (None for anything else)."""
    for candidate in (error, error.__cause__):
        if candidate is None:
            continue
        status = getattr(candidate, "ntstatus", None)
        if status is None:
            status = getattr(candidate, "status", None)
        if isinstance(status, int) and status:
            return status
    return None


def is_transient(error: BaseException) -> bool:
    """A dropped connection, a timeout, a session the server forgot: worth another try."""
    from smbprotocol.exceptions import SMBConnectionClosed

    if isinstance(error, (SMBConnectionClosed, TimeoutError, ConnectionError)):
        return True
    if "credits are available" in str(error):  # too many requests in flight at once
        return True
    if socket_error(error) is not None:  # the reconnection failed: the server restarts?
        return True
    return status_of(error) in TRANSIENT_STATUSES


def socket_error(error: BaseException) -> OSError | None:
    """The socket error behind smbprotocol's "Failed to connect to 'host:port'"."""
    cause = error.__cause__
    if isinstance(error, ValueError) and isinstance(cause, OSError):
        return cause
    return None


def connection_problem(error: BaseException, server: str, port: int) -> SourceError | None:
    """Nothing listening, an unknown host, not an SMB 2/3 server, a refused logon; None when
    it is none of those."""
    from smbprotocol.exceptions import SMBAuthenticationError, SMBConnectionClosed, SMBOSError

    where = f"{server}:{port}"
    cause = socket_error(error)
    if isinstance(cause, socket.gaierror):
        return HostUnreachableError(
            f"The name {server!r} cannot be resolved to an address.",
            "Check 'SMB IP': the server's IP address or a host name this machine's DNS knows.",
            fields=["server_ip"],
        )
    if isinstance(cause, ConnectionRefusedError):
        return HostUnreachableError(
            f"Nothing listens at {where} (connection refused).",
            "Check 'SMB IP' and 'SMB port' (445 for SMB), and that the file-sharing service "
            "runs on the server.",
            fields=list(NETWORK_FIELDS),
        )
    if cause is not None:  # timed out, no route, network unreachable
        return HostUnreachableError(
            f"{where} cannot be reached: {cause.strerror or type(cause).__name__}.",
            "Check 'SMB IP' and 'SMB port', and that a firewall lets this machine reach TCP "
            f"port {port} of the server.",
            fields=list(NETWORK_FIELDS),
        )
    if isinstance(error, (SMBConnectionClosed, TimeoutError)) or (
        isinstance(error, OSError) and not isinstance(error, SMBOSError)
    ):  # hung up during the negotiation (reset, broken pipe, a socket closed under it)
        return HostUnreachableError(
            f"{where} closed the connection when asked for SMB 2 or 3: it is not an SMB "
            "server, or one that speaks only SMB1.",
            "Check 'SMB port' (445 for SMB), and enable SMB 2/3 on the server (SMB1 is not "
            "supported).",
            fields=list(NETWORK_FIELDS),
        )
    status = status_of(error)
    if status == STATUS_LOGON_FAILURE:
        return AuthenticationError(
            f"{where} refused the logon: the user name or the password is wrong.",
            "Check 'Username' (DOMAIN\\user or user@domain for a domain account) and 'Password'.",
            fields=list(CREDENTIAL_FIELDS),
        )
    if status in ACCOUNT_STATES:
        return AuthenticationError(
            f"{where} refused the logon: {ACCOUNT_STATES[status]}.",
            "Ask the server's administrator to enable the account or reset its password, "
            "then update 'Password'.",
            fields=list(CREDENTIAL_FIELDS),
        )
    if isinstance(error, SMBAuthenticationError):
        return AuthenticationError(
            f"The logon to {where} failed: {_first_line(error)}.",
            "Check 'Username' and 'Password' (NTLM: DOMAIN\\user or user@domain).",
            fields=list(CREDENTIAL_FIELDS),
        )
    return None


def share_problem(error: BaseException, server: str, share: str) -> SourceError | None:
    """The share does not exist, or the user may not open it (the tree connect)."""
    status = status_of(error)
    unc = f"\\\\{server}\\{share}"
    if status in {STATUS_BAD_NETWORK_NAME} | NOT_FOUND:
        return PathNotFoundError(
            f"The server has no share named {share!r} ({unc}).",
            "Check 'SMB path': it starts with the share's name (share or share/folder); the "
            "server's shares are listed by `smbclient -L` or in Computer Management > Shared "
            "Folders.",
            fields=["drive_path"],
        )
    if status == STATUS_ACCESS_DENIED:
        return InsufficientPrivilegesError(
            f"The user may not open the share {unc} (access denied).",
            "Give the user Read permission on the share (Windows: the share's permissions; "
            "Samba: 'valid users' of the share).",
            fields=["drive_path"],
        )
    return None


def folder_problem(error: BaseException, unc: str, shown: str) -> SourceError | None:
    """The configured folder is missing, a file, or not listable."""
    status = status_of(error)
    if status in NOT_FOUND:
        return PathNotFoundError(
            f"The folder {shown!r} does not exist on the share ({unc}).",
            "Check 'SMB path' (share/folder, with '/' between folders; names are as the "
            "share shows them).",
            fields=["drive_path"],
        )
    if status == STATUS_NOT_A_DIRECTORY:
        return PathNotFoundError(
            f"{shown!r} is a file, not a folder ({unc}).",
            "Give a folder in 'SMB path' (the share, or share/folder).",
            fields=["drive_path"],
        )
    if status == STATUS_ACCESS_DENIED:
        return InsufficientPrivilegesError(
            f"The user may not list the folder {unc} (access denied).",
            "Grant the user 'List folder contents' and 'Read & execute' on the folder "
            "(Samba: read and execute permission for the user the share runs as).",
            fields=["drive_path"],
        )
    return None


def describe(error: BaseException) -> str:
    """A short reason for a log line or a failure record: the status name, never a path
    with credentials (smbprotocol's messages hold none)."""
    status = status_of(error)
    if status is not None:
        return f"{_status_name(status)} (0x{status:08X})"
    return f"{type(error).__name__}: {_first_line(error)}" if str(error) else type(error).__name__


def _status_name(status: int) -> str:
    from smbprotocol.header import NtStatus

    for name, value in vars(NtStatus).items():
        if value == status and name.startswith("STATUS_"):
            return name
    return "NTSTATUS"


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__
