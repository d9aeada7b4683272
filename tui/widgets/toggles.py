"""Check boxes, radio buttons and a tick list whose state shows as a character, not only as
a colour: Textual's stock ones draw the same "X"/"●" on and off and change only its colour."""

from __future__ import annotations

from textual.widgets import Checkbox, OptionList, RadioButton
from textual.widgets.option_list import Option

from sluice.tui.widgets.badges import escape


class MarkedCheckbox(Checkbox):
    """`X` when ticked, blank when not; one line, so forms fit 80x24 (focus shows as the
    label's highlight)."""

    DEFAULT_CSS = """
    MarkedCheckbox { border: none; height: 1; padding: 0 1; background: transparent; }
    MarkedCheckbox:focus { border: none; }
    """

    @property
    def BUTTON_INNER(self) -> str:
        return "X" if self.value else " "


class MarkedRadioButton(RadioButton):
    """`●` when chosen, blank when not."""

    @property
    def BUTTON_INNER(self) -> str:
        return "●" if self.value else " "


class TickList(OptionList):
    """Items the user ticks off (`[x]` / `[ ]`) with Enter or a click; nothing depends on it."""

    DEFAULT_CSS = """
    TickList { height: auto; border: none; padding: 0; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: list[str] = []
        self.ticked: set[int] = set()

    def set_items(self, items: list[str]) -> None:
        self.items = list(items)
        self.ticked = set()
        self._redraw()

    def _redraw(self) -> None:
        highlighted = self.highlighted
        self.set_options(
            Option(f"{'[x]' if i in self.ticked else '[ ]'} {escape(text)}", id=str(i))
            for i, text in enumerate(self.items)
        )
        if highlighted is not None and self.option_count:
            self.highlighted = min(highlighted, self.option_count - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = event.option_index
        self.ticked ^= {index}
        self._redraw()
