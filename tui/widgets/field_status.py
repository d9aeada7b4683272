"""The line under a form field that says what is wrong with it (or that it is fine)."""

from __future__ import annotations

from textual.widgets import Static

from sluice.tui.widgets.badges import SYMBOLS, escape, shorten_long_words


class FieldStatus(Static):
    """Inline feedback for one field: `✖ message — fix` / `✔ message` / `… checking`.

    Empty and zero-height when there is nothing to say, so forms stay compact at 80x24.
    Echoed inputs are cut short (a 3,000-character paste reads 'abc…xyz'), and the same line
    is never shown twice.
    """

    DEFAULT_CSS = """
    FieldStatus { height: auto; width: 1fr; padding: 0 1; display: none; }
    FieldStatus.-shown { display: block; }
    FieldStatus.-ok { color: $text-success; }
    FieldStatus.-warn { color: $text-warning; }
    FieldStatus.-fail { color: $text-error; }
    FieldStatus.-running { color: $text-muted; }
    """

    status: str = ""

    def show(self, status: str, message: str, hint: str = "") -> None:
        """Show one status line (`status` is ok | warn | fail | running)."""
        symbol = SYMBOLS.get(status, "")
        label = {"ok": "OK", "warn": "Warning", "fail": "Error", "running": "Checking"}.get(
            status, ""
        )
        text = f"{symbol} {label}: {_shown(message)}"
        if hint and status in ("warn", "fail"):
            text += f"\n  Fix: {_shown(hint)}"
        self.status = status
        self.update(text)
        for name in ("ok", "warn", "fail", "running"):
            self.set_class(status == name, f"-{name}")
        self.add_class("-shown")

    def show_many(self, items: list[tuple[str, str, str]]) -> None:
        """Several results for the same field; the worst decides the colour."""
        if not items:
            self.clear()
            return
        order = {"fail": 0, "warn": 1, "running": 2, "ok": 3}
        items = sorted(items, key=lambda item: order.get(item[0], 4))
        lines: list[str] = []
        for status, message, hint in items:
            symbol = SYMBOLS.get(status, "")
            line = f"{symbol} {_shown(message)}"
            if hint and status in ("warn", "fail"):
                line += f" — Fix: {_shown(hint)}"
            if line not in lines:
                lines.append(line)
        worst = items[0][0]
        self.status = worst
        self.update("\n".join(lines))
        for name in ("ok", "warn", "fail", "running"):
            self.set_class(worst == name, f"-{name}")
        self.add_class("-shown")

    def clear(self) -> None:
        self.status = ""
        self.update("")
        self.remove_class("-shown", "-ok", "-warn", "-fail", "-running")


def _shown(text: str) -> str:
    """Markup-safe text with runaway words cut short."""
    return escape(shorten_long_words(str(text)))
