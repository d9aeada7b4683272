"""The always-visible list of wizard steps: done, current and to do, in words and symbols.

`✔` done, `▶` current, `○` to do, `·` not reachable yet — and the current step is also bold
and says "(current)" to screen readers through its text, so state never rests on colour.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

MARK_DONE = "✔"
MARK_CURRENT = "▶"
MARK_TODO = "○"


class StepList(OptionList):
    """Steps as options; choosing one asks the wizard to jump there."""

    #: Unscoped: the narrow rule keys on the screen's breakpoint class, outside the widget.
    SCOPED_CSS = False
    DEFAULT_CSS = """
    StepList {
        width: 26;
        height: 1fr;
        border: none;
        border-right: vkey $primary 50%;
        padding: 0;
        background: $surface;
    }
    StepList:focus { border: none; border-right: vkey $primary; }
    StepList > .option-list--option { padding: 0 1; }
    Screen.-narrow StepList { width: 24; }
    """

    class Jump(Message):
        """The user picked a step."""

        def __init__(self, step: int) -> None:
            self.step = step
            super().__init__()

    def __init__(self, titles: Sequence[str], *, id: str | None = None) -> None:
        self.titles = list(titles)
        super().__init__(*self._build_options(0, set(), 0), id=id)
        self.current = 0

    def _build_options(self, current: int, done: set[int], reachable: int) -> list[Option]:
        options = []
        for index, title in enumerate(self.titles):
            if index == current:
                mark, text = MARK_CURRENT, f"[b]{title}[/b]"
            elif index in done:
                mark, text = MARK_DONE, title
            else:
                mark, text = MARK_TODO, title
            label = f"{mark} {index + 1}. {text}"
            options.append(Option(label, id=f"step-{index}", disabled=index > reachable))
        return options

    def show_progress(self, current: int, done: set[int], reachable: int) -> None:
        """Redraw the marks: `reachable` is the furthest step the user may jump to."""
        self.current = current
        highlighted = current
        self.set_options(self._build_options(current, done, reachable))
        self.highlighted = highlighted

    def status_text(self, index: int) -> str:
        """The step's state in words (used by tests and the screen's sub-title)."""
        prompt = str(self.get_option_at_index(index).prompt)
        if prompt.startswith(MARK_CURRENT):
            return "current"
        if prompt.startswith(MARK_DONE):
            return "done"
        return "to do"

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_index != self.current:
            self.post_message(self.Jump(event.option_index))
