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


class ConfigError(Exception):
    """The config cannot be used. `.problems` lists every error (and the warnings found on the
    way); `str()` is one readable line per problem. Never contains a secret value."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sort_problems(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
