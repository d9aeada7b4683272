"""A value with a label and a Copy button (connector ids, service types, URLs)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Button, Label


class CopyableValue(Horizontal):
    """`label  value  [Copy]` on one line; the button copies the value to the clipboard."""

    #: Unscoped: the narrow rule keys on the screen's breakpoint class, outside the widget.
    SCOPED_CSS = False
    DEFAULT_CSS = """
    CopyableValue { height: 1; width: 1fr; margin-bottom: 1; }
    CopyableValue > .copyable--label { width: 20; color: $text-muted; }
    CopyableValue > .copyable--value { width: 1fr; text-style: bold; }
    CopyableValue > Button { min-width: 8; width: 8; }
    Screen.-narrow CopyableValue > .copyable--label { width: 17; }
    """

    value: reactive[str] = reactive("", init=False)

    def __init__(self, label: str, value: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._label = label
        self.set_reactive(CopyableValue.value, value)

    @property
    def label(self) -> str:
        return self._label

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="copyable--label")
        yield Label(self.value or "—", classes="copyable--value")
        yield Button("Copy", compact=True, disabled=not self.value, tooltip="Copy to clipboard")

    def watch_value(self, value: str) -> None:
        self.query_one(".copyable--value", Label).update(value or "—")
        self.query_one(Button).disabled = not value

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.value:
            self.app.copy_to_clipboard(self.value)
            self.notify(f"Copied {self._label.lower()}: {self.value}", timeout=3)
