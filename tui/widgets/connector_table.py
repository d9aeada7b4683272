"""The monitor's table of connectors, laid out for the width it has.

Wide enough, it shows one line per connector and every column. Narrower (80 columns), it
stacks: the id under the name, "seen" under the status, the sync age under the last sync,
the source type under the index, and wraps long names and index names, so nothing that
matters is cut. Ids are never truncated: they are what a user copies into `sluice`
commands and Kibana URLs.

Rows from an old read can be marked stale (dimmed) while the cluster cannot be read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import DataTable

from sluice.tui.widgets.badges import SYMBOLS

#: connector/job status → the status word used by the badges (text, then colour).
STATUS_KIND = {
    "connected": "ok",
    "completed": "ok",
    "configured": "ok",
    "in_progress": "running",
    "pending": "pending",
    "created": "pending",
    "needs_configuration": "warn",
    "canceling": "warn",
    "canceled": "warn",
    "suspended": "warn",
    "error": "fail",
}

#: (key, label) of the one-line layout, left to right.
FULL = (
    ("name", "Name"),
    ("type", "Type"),
    ("status", "Status"),
    ("last_sync", "Last sync"),
    ("synced", "Synced"),
    ("seen", "Seen"),
    ("index", "Index"),
    ("id", "Id"),
)
#: (key, label) of the stacked layout (two or more lines a row).
STACKED = (
    ("name", "Name / Id"),
    ("status", "Status / Seen"),
    ("last_sync", "Last sync"),
    ("index", "Index / Type"),
)
ID_WIDTH = 20  # Elasticsearch's generated ids
MIN_INDEX_WIDTH = 12
MAX_STATUS_WIDTH = 15  # in the stacked layout
STALE_STYLE = "dim"


def ago(moment: datetime | None) -> str:
    """'12s ago', '5m ago', '3h ago', '2d ago' or '—'."""
    if moment is None:
        return "—"
    seconds = max((datetime.now(UTC) - moment).total_seconds(), 0)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


def status_text(status: Any) -> str:
    """`✔ connected` — a symbol and the word, so colour is never the only signal."""
    if status is None:
        return "—"
    word = str(status)
    return f"{SYMBOLS.get(STATUS_KIND.get(word, 'pending'), '·')} {word}"


def type_text(service_type: str) -> str:
    """The type, marked when only Elastic's connector service runs it (so a silent one is
    not mistaken for Sluice's business)."""
    from sluice.sources.registry import sluice_runs

    if not service_type or sluice_runs(service_type):
        return service_type or "?"
    return f"{service_type} (Elastic)"


def connector_cells(connector: Any) -> dict[str, str]:
    """The plain text of every column for one connector."""
    return {
        "name": connector.name or "(no name)",
        "type": type_text(str(connector.service_type or "")),
        "status": status_text(connector.status),
        "last_sync": status_text(connector.last_sync_status),
        "synced": ago(connector.last_synced),
        "seen": ago(connector.last_seen),
        "index": connector.index_name or "—",
        "id": connector.id,
    }


def wrap(value: str, width: int) -> list[str]:
    """Lines of at most `width` cells, broken after a space, '-' or '_' where possible
    (index names and status words have no spaces), else folded."""
    lines: list[str] = []
    line = ""
    for token in re.split(r"(?<=[ _-])", value):
        if line and cell_len(line + token.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        while cell_len(token) > width:
            lines.append(token[:width])
            token = token[width:]
        line += token
    return [*lines, line.rstrip()] if line or not lines else lines


def _width(values: Iterable[str]) -> int:
    return max((cell_len(line) for value in values for line in value.split("\n")), default=0)


class ConnectorTable(DataTable):
    """Connectors by id; `show()` replaces them, `stale` dims them."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self._cells: dict[str, dict[str, str]] = {}
        self._layout: tuple[Any, ...] = ()
        self.stale = False

    # ------------------------------------------------------------------ public
    def show(self, connectors: Sequence[Any]) -> None:
        """Replace the rows with `connectors` (fresh: no longer stale)."""
        self._cells = {c.id: connector_cells(c) for c in connectors}
        self.stale = False
        self._rebuild()

    def mark_stale(self, stale: bool = True) -> None:
        """Dim the rows: they are from the last good read, not the cluster as it is now."""
        if stale != self.stale:
            self.stale = stale
            self._rebuild()

    def row_lines(self, connector_id: str) -> list[str]:
        """What a row shows, cell by cell, as plain text (for tests and copy)."""
        return [getattr(cell, "plain", str(cell)) for cell in self.get_row(connector_id)]

    # ------------------------------------------------------------------ layout
    def on_resize(self, event: events.Resize) -> None:
        if self._cells and self._plan() != self._layout:
            self._rebuild()

    def _available(self) -> int:
        width = self.size.width or self.app.size.width
        return width - int(self.styles.scrollbar_size_vertical)

    def _plan(self) -> tuple[Any, ...]:
        """("full",) when every column fits on one line, else ("stacked", widths...)."""
        rows = list(self._cells.values())
        padding = 2 * self.cell_padding
        natural = [max(cell_len(label), _width(r[key] for r in rows)) for key, label in FULL]
        if sum(natural) + padding * len(FULL) <= self._available():
            return ("full",)
        status = max(cell_len("Status / Seen"), _width(self._stack_status(r) for r in rows))
        last = max(cell_len("Last sync"), _width(self._stack_last(r) for r in rows))
        index_need = max(cell_len("Index / Type"), _width(self._stack_index(r) for r in rows))
        name_need = max(ID_WIDTH, _width(r["name"] for r in rows))
        room = self._available() - padding * len(STACKED) - last
        if room - status < name_need + index_need:  # tight: "needs_configuration" wraps
            status = min(status, MAX_STATUS_WIDTH)
        room -= status
        name = max(ID_WIDTH, min(name_need, room - min(index_need, room - ID_WIDTH)))
        index = max(MIN_INDEX_WIDTH, min(index_need, room - name))
        return ("stacked", name, status, last, index)

    @staticmethod
    def _stack_status(cells: dict[str, str]) -> str:
        seen = cells["seen"]
        return f"{cells['status']}\n{'never seen' if seen == '—' else 'seen ' + seen}"

    @staticmethod
    def _stack_index(cells: dict[str, str]) -> str:
        return f"{cells['index']}\n{cells['type']}"

    @staticmethod
    def _stack_last(cells: dict[str, str]) -> str:
        synced = cells["synced"]
        return cells["last_sync"] if synced == "—" else f"{cells['last_sync']}\n{synced}"

    def _text(self, value: str, width: int | None = None) -> Text:
        """A cell: each line wrapped to `width`, dimmed when stale."""
        if width is not None:
            value = "\n".join(part for line in value.split("\n") for part in wrap(line, width))
        return Text(value, style=STALE_STYLE if self.stale else "", end="")

    def _rebuild(self) -> None:
        """Lay the rows out again, keeping the cursor on the same connector."""
        selected = None
        if self.row_count:
            selected = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        scroll_y = self.scroll_y
        plan = self._plan()
        if plan != self._layout:
            self.clear(columns=True)
            if plan[0] == "full":
                for key, label in FULL:
                    self.add_column(label, key=key)
            else:
                for (key, label), width in zip(STACKED, plan[1:], strict=True):
                    self.add_column(label, key=key, width=width)
            self._layout = plan
        else:
            self.clear()
        for connector_id, cells in self._cells.items():
            if plan[0] == "full":
                self.add_row(*(self._text(cells[key]) for key, _ in FULL), key=connector_id)
                continue
            name_w, status_w, last_w, index_w = plan[1:]
            row = [
                self._text(cells["name"], name_w).append("\n" + cells["id"]),
                self._text(self._stack_status(cells), status_w),
                self._text(self._stack_last(cells), last_w),
                self._text(self._stack_index(cells), index_w),
            ]
            height = max(len(cell.plain.split("\n")) for cell in row)
            self.add_row(*row, key=connector_id, height=height)
        if selected in self._cells:
            self.move_cursor(row=self.get_row_index(selected), animate=False, scroll=False)
        if scroll_y:  # once the new rows are measured, back to where the user was
            self.call_after_refresh(self.scroll_to, y=scroll_y, animate=False)
