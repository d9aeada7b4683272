"""A live list of checks: a spinner on the one running, then an OK/WARN/FAIL badge and a hint.

Fed by `begin(planned)` then `record(result)` for each result as it arrives (from a worker's
typed messages), so the list fills in while the checks run instead of after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from sluice.tui.widgets.badges import animations_on, badge_markup, escape, shorten_long_words


@dataclass
class CheckView:
    """What a row shows (decoupled from core's CheckResult)."""

    id: str
    title: str
    status: str = "pending"  # pending | running | ok | warn | fail | skip
    message: str = ""
    hint: str = ""
    field: str | None = None

    @classmethod
    def from_result(cls, result: Any) -> CheckView:
        return cls(
            id=str(result.id),
            title=str(result.title),
            status=str(getattr(result.status, "value", result.status)),
            message=str(result.message or ""),
            hint=str(getattr(result, "hint", "") or ""),
            field=getattr(result, "field", None),
        )


class CheckRow(Static):
    """One check: `[ OK ] Title — message` and, below, the fix hint when there is one."""

    DEFAULT_CSS = """
    CheckRow { height: auto; width: 1fr; }
    CheckRow.-fail { background: $error 8%; }
    CheckRow.-warn { background: $warning 8%; }
    """

    def __init__(self, view: CheckView) -> None:
        super().__init__(classes=f"check-row check-{view.id}")
        self.view = view
        self.frame = 0
        self._paint()

    def set_view(self, view: CheckView) -> None:
        self.view = view
        self._paint()

    def spin(self) -> None:
        if self.view.status == "running":
            self.frame += 1
            self._paint()

    def _paint(self) -> None:
        view = self.view
        line = f"{badge_markup(view.status, self.frame)} [b]{escape(view.title)}[/b]"
        if view.message:
            line += f" — {escape(shorten_long_words(view.message))}"
        if view.hint and view.status in ("warn", "fail"):
            line += f"\n         [i]Fix:[/i] {escape(shorten_long_words(view.hint))}"
        self.update(line)
        for status in ("ok", "warn", "fail", "skip", "running", "pending"):
            self.set_class(view.status == status, f"-{status}")


class CheckList(Vertical):
    """Rows for planned checks, updated as results stream in."""

    DEFAULT_CSS = """
    CheckList { height: auto; width: 1fr; }
    CheckList > .checklist--empty { color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None, empty: str = "No checks run yet.") -> None:
        super().__init__(id=id)
        self._empty = empty
        self._rows: dict[str, CheckRow] = {}

    def compose(self) -> ComposeResult:
        yield Static(self._empty, classes="checklist--empty")

    def on_mount(self) -> None:
        self.set_interval(1 / 8, self._spin)

    def _spin(self) -> None:
        if not animations_on(self):
            return
        for row in self._rows.values():
            row.spin()

    @property
    def views(self) -> list[CheckView]:
        return [row.view for row in self._rows.values()]

    def begin(self, planned: list[tuple[str, str]]) -> None:
        """Show every planned check as pending, the first one running."""
        if [(c, t) for c, t in planned] == [(r.view.id, r.view.title) for r in self._rows.values()]:
            for row in self._rows.values():  # same checks again: reset in place, no flicker
                row.set_view(CheckView(row.view.id, row.view.title))
            self._advance()
            return
        self.remove_children()
        self._rows = {}
        rows = []
        for check_id, title in planned:
            row = CheckRow(CheckView(check_id, title))
            self._rows[check_id] = row
            rows.append(row)
        if not rows:
            rows.append(Static(self._empty, classes="checklist--empty"))
        self.mount_all(rows)
        self._advance()

    def reset(self) -> None:
        """Every row back to pending, results gone: what they said no longer applies."""
        for row in self._rows.values():
            row.set_view(CheckView(row.view.id, row.view.title))

    def record(self, view: CheckView) -> None:
        row = self._rows.get(view.id)
        if row is None:
            row = CheckRow(view)
            self._rows[view.id] = row
            self.mount(row)
        else:
            row.set_view(view)
        self._advance()

    def finish(self) -> None:
        """Checks that never reported (cancelled run) go back to pending."""
        for row in self._rows.values():
            if row.view.status == "running":
                row.view.status = "pending"
                row.set_view(row.view)

    def _advance(self) -> None:
        for row in self._rows.values():
            if row.view.status == "running":
                return
        for row in self._rows.values():
            if row.view.status == "pending":
                row.view.status = "running"
                row.set_view(row.view)
                return

    def worst(self) -> str | None:
        """'fail', 'warn', 'ok' — the worst finished status, or None while nothing finished."""
        statuses = {row.view.status for row in self._rows.values()}
        for status in ("fail", "warn", "ok"):
            if status in statuses:
                return status
        return None
