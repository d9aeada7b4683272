"""A two-column summary (`what  value`) whose values wrap between words.

A DataTable cuts a long value at the column edge ("Team wiki files (Zx1cE4oBq2r7sLui") and
adds a horizontal scroll bar at 80 columns; here a value that doesn't fit goes on to the
next line, so every value is read whole at any width.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Static

from sluice.tui.widgets.badges import escape


class Summary(Vertical):
    """Rows of a muted label and a value that wraps at word boundaries."""

    DEFAULT_CSS = """
    Summary { height: auto; width: 1fr; }
    Summary > .summary--row { height: auto; width: 1fr; }
    Summary > .summary--row.-odd { background: $boost; }
    Summary .summary--what { width: 19; color: $text-muted; padding: 0 1 0 0; }
    Summary .summary--value { width: 1fr; height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[tuple[str, str]] = []

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def rows(self) -> list[tuple[str, str]]:
        return list(self._rows)

    def set_rows(self, rows: Iterable[tuple[str, str]]) -> None:
        """Replace every row (values are plain text, never markup)."""
        self._rows = [(str(what), str(value)) for what, value in rows]
        self.remove_children()
        self.mount_all(
            Horizontal(
                Label(escape(what), classes="summary--what"),
                Static(escape(value), classes="summary--value"),
                classes="summary--row" + (" -odd" if index % 2 else ""),
            )
            for index, (what, value) in enumerate(self._rows)
        )
