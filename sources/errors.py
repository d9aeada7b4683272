"""Typed, actionable errors of data sources.

Every error reads as "what is wrong. What to do." and names the configuration fields at
fault (`fields`), so the CLI prints one clear line and the TUI marks the right inputs.
Messages never contain secrets: only host, port, user, database and table names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class SourceError(Exception):
    """Base of every source error. `problem` + `fix` make the message."""

    def __init__(self, problem: str, fix: str = "", *, fields: Iterable[str] = ()) -> None:
        self.problem = problem.strip()
        self.fix = fix.strip()
        self.fields: tuple[str, ...] = tuple(fields)
        super().__init__(" ".join(part for part in (self.problem, self.fix) if part))

    @property
    def field_errors(self) -> dict[str, str]:
        """The message under each field at fault (empty when no field is to blame)."""
        return {field: str(self) for field in self.fields}


class ConfigurationError(SourceError):
    """Configuration values are missing or invalid. `field_errors` maps each key to a
    message that names the field by its label."""

    def __init__(self, field_errors: Mapping[str, str], problem: str | None = None) -> None:
        self._field_errors = dict(field_errors)
        summary = problem or "; ".join(self._field_errors.values()) or "Invalid configuration."
        super().__init__(summary, fields=self._field_errors)

    @property
    def field_errors(self) -> dict[str, str]:
        return dict(self._field_errors)


class AdvancedRulesError(SourceError):
    """The advanced sync rules (JSON snippet) are invalid; `errors` lists each problem."""

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors = list(errors)
        super().__init__(
            "Invalid advanced sync rules: " + " ".join(self.errors),
            "Fix the advanced rules snippet and validate it again.",
        )


class ConnectionProblemError(SourceError):
    """Base of the errors raised before any data can be read."""


class HostUnreachableError(ConnectionProblemError):
    """Nothing answers at host:port (refused, unknown name, timeout)."""


class TLSError(ConnectionProblemError):
    """The TLS handshake failed: server without TLS, untrusted certificate, bad CA."""


class AuthenticationError(ConnectionProblemError):
    """The server rejected the user name or password."""


class DatabaseNotFoundError(SourceError):
    """The configured database (or schema) does not exist."""


class InsufficientPrivilegesError(SourceError):
    """The user lacks a privilege the sync needs (connect, select, read a folder...)."""


class TableNotFoundError(SourceError):
    """A configured table does not exist (or is invisible to the user)."""


class PathNotFoundError(SourceError):
    """A configured file-system path does not exist or is not a directory."""
