"""What is wrong with a config, said precisely: where (file, line, column), which key, what, and
how to fix it. One `Problem` per finding; `ConfigError` carries them all so a user sees every
mistake at once instead of fixing them one traceback at a time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding about a config. `line`/`column` are 1-based; `file` is the path as given."""

    key: str
    message: str
    hint: str | None = None
    line: int | None = None
    column: int | None = None
    severity: Severity = "error"
    file: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def location(self) -> str:
        """`config.yml:12:3`, `config.yml:12`, `config.yml` or "" — as far as it is known."""
        parts = [self.file] if self.file else []
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = self.message
        if self.key and f"`{self.key}`" not in self.message:
            text = f"{self.key}: {text}"
        if self.severity == "warning":
            text = f"warning: {text}"
        if self.location:
            text = f"{self.location}: {text}"
        if self.hint:
            text = f"{text} — {self.hint}"
        return text


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Errors first, then by position, so the first line shown is the first thing to fix."""
    return sorted(
        problems,
        key=lambda p: (not p.is_error, p.line if p.line is not None else 1 << 30, p.column or 0),
    )


#: Errors (and, apart, warnings) listed one by one; a file with thousands says how many more.
#: Above the 20 unknown keys the validator lists, so its own "and N more" line stays.
MAX_LISTED = 25


def cap_problems(problems: Iterable[Problem], limit: int = MAX_LISTED) -> list[Problem]:
    """The first `limit` errors and `limit` warnings (sorted), then one line per kind saying
    how many more there are: a hostile file must not print a million lines."""
    ordered = sort_problems(problems)
    kept: list[Problem] = []
    listed = {"error": 0, "warning": 0}
    more = {"error": 0, "warning": 0}
    for problem in ordered:
        if listed[problem.severity] < limit:
            listed[problem.severity] += 1
            kept.append(problem)
        else:
            more[problem.severity] += 1
    file = next((p.file for p in ordered if p.file), None)
    for severity, count in more.items():
        if count:
            noun = "problem" if severity == "error" else "warning"
            kept.append(
                Problem(
                    "",
                    f"and {count:,} more {noun}{'s' if count > 1 else ''} (not listed) — fix "
                    "the ones above first",
                    severity=severity,  # type: ignore[arg-type]
                    file=file,
                )
            )
    return sort_problems(kept)


class ConfigError(Exception):
    """The config cannot be used. `.problems` lists every error (and the warnings found on the
    way); `str()` is one readable line per problem. Never contains a secret value."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = cap_problems(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
