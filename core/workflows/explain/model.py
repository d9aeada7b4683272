"""What an explanation is made of — findings, their likelihood, the id that names nothing —
and the words for times, shared by every module that finds something."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sluice.core.invocation import sluice_command
from sluice.core.protocol.errors import NotFound

Likelihood = Literal["certain", "likely", "possible", "info"]
#: Most likely first; `info` findings explain without anything being wrong.
LIKELIHOODS: tuple[Likelihood, ...] = ("certain", "likely", "possible", "info")


class UnknownTarget(NotFound):
    """The id is neither a connector nor a sync job of this cluster."""

    def __init__(self, target_id: str) -> None:
        self.target_id = target_id
        self.hint = (
            f"`{sluice_command()} connector list` shows the connectors, "
            f"`{sluice_command()} job list CONNECTOR_ID` their jobs"
        )
        super().__init__(f"no connector or sync job with id {target_id!r}; {self.hint}")


@dataclass(frozen=True)
class Finding:
    """One cause: `cause` is a stable short id ("no_service"), `title` one line, `detail`
    the evidence (ids, times), `fix` what to do (commands in backticks); `job_id` names the
    job it is about, when it is about one."""

    cause: str
    title: str
    detail: str
    fix: str
    likelihood: Likelihood = "likely"
    job_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Explanation:
    """What the target is doing (`summary`, one line) and why, most likely cause first."""

    target_kind: Literal["connector", "job"]
    target_id: str
    connector_id: str | None
    summary: str
    findings: tuple[Finding, ...] = ()
    job_id: str | None = None  # the job explained (the target, or the connector's stuck one)

    @property
    def healthy(self) -> bool:
        """Nothing is stuck: every finding (if any) is information."""
        return all(f.likelihood == "info" for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target_kind": self.target_kind,
            "target_id": self.target_id,
            "connector_id": self.connector_id,
            "job_id": self.job_id,
            "summary": self.summary,
            "healthy": self.healthy,
            "findings": [f.as_dict() for f in self.findings],
        }


def most_likely_first(findings: list[Finding]) -> tuple[Finding, ...]:
    """Most likely first; equal ones keep the order they were found in (cause before
    consequence)."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for finding in findings:
        key = (finding.cause, finding.detail)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return tuple(sorted(unique, key=lambda f: LIKELIHOODS.index(f.likelihood)))


def span(delta: timedelta) -> str:
    """'12 s', '14 min', '3 h', '2 days'."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
