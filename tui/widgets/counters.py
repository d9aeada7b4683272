"""The dashboard's counters: what happened to documents so far, in a compact grid."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Static

COUNTERS = (
    ("extracted", "Extracted"),
    ("indexed", "Indexed"),
    ("updated", "Updated"),
    ("deleted", "Deleted"),
    ("unchanged", "Unchanged"),  # skipped ones (sync rules, size limit): the end-of-sync line
    ("failed", "Failed"),
    ("bytes", "Volume"),
    ("rate", "Docs/s"),
)


def human_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


class Counter(Static):
    DEFAULT_CSS = """
    Counter { height: 2; width: 1fr; padding: 0 1; }
    Counter.-bad { color: $text-error; text-style: bold; }
    """

    def __init__(self, key: str, label: str) -> None:
        super().__init__(id=f"counter-{key}")
        self.key = key
        self.label = label
        self.show("0")

    def show(self, value: str, bad: bool = False, label: str | None = None) -> None:
        self.update(f"[dim]{label or self.label}[/dim]\n[b]{value}[/b]")
        self.set_class(bad, "-bad")


class CountersPanel(Grid):
    """Eight counters in 4x2 (wide) — values only change when they change."""

    DEFAULT_CSS = """
    CountersPanel {
        grid-size: 4 2;
        height: 4;
        width: 1fr;
        border: none;
    }
    """

    def compose(self) -> ComposeResult:
        for key, label in COUNTERS:
            yield Counter(key, label)

    def update_values(self, values: dict[str, float], labels: dict[str, str] | None = None) -> None:
        """Show `values`; `labels` replaces some labels (the rate becomes an average at the
        end)."""
        labels = labels or {}
        for key, _ in COUNTERS:
            value = values.get(key, 0)
            if key == "bytes":
                text = human_bytes(float(value))
            elif key == "rate":
                text = f"{value:,.1f}"
            else:
                text = f"{int(value):,}"
            self.query_one(f"#counter-{key}", Counter).show(
                text, bad=key == "failed" and value > 0, label=labels.get(key)
            )
