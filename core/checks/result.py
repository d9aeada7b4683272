"""What a check reports: one line a person can act on, and the config key to fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["ok", "warn", "fail", "skip"]
STATUSES: tuple[Status, ...] = ("ok", "warn", "fail", "skip")


@dataclass(frozen=True)
class Outcome:
    """What a check function returns; the runner adds id, title and timing."""

    status: Status
    message: str
    hint: str | None = None
    field: str | None = None


def ok(message: str, hint: str | None = None, field: str | None = None) -> Outcome:
    return Outcome("ok", message, hint, field)


def warn(message: str, hint: str | None = None, field: str | None = None) -> Outcome:
    return Outcome("warn", message, hint, field)


def fail(message: str, hint: str | None = None, field: str | None = None) -> Outcome:
    return Outcome("fail", message, hint, field)


def skip(message: str, hint: str | None = None, field: str | None = None) -> Outcome:
    return Outcome("skip", message, hint, field)


@dataclass(frozen=True)
class CheckResult:
    """The result of one check. `message` is one line; `hint` says how to fix a problem;
    `field` is the `elasticsearch.*` config key (or "index_name"/"pipeline") it concerns."""

    id: str
    title: str
    status: Status
    message: str
    hint: str | None
    duration_ms: float
    field: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
