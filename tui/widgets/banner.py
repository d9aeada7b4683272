"""A banner across the top of a screen for a problem that is going on right now
(the cluster cannot be read): hidden until `show()`, gone again after `hide()`."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static


class Banner(Static):
    """One alert in plain text (never markup: it quotes server errors)."""

    DEFAULT_CSS = """
    Banner {
        height: auto;
        padding: 0 1;
        background: $error-muted;
        color: $text;
        text-style: bold;
        display: none;
    }
    Banner.-shown { display: block; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", markup=False, **kwargs)
        self.message = ""

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    def show(self, text: str) -> None:
        if text != self.message:
            self.message = text
            self.update(text)
        self.add_class("-shown")

    def hide(self) -> None:
        self.remove_class("-shown")
