"""Form layout: one line per field (label on the left, control on the right) and the
field's inline status below it — dense enough for 80x24, readable when wider."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Label

from sluice.tui.widgets.field_status import FieldStatus


class FieldRow(Vertical):
    """`Label  [control]` then a FieldStatus (hidden until there is something to say)."""

    #: Unscoped: the narrow rules key on the screen's breakpoint class, outside the widget.
    SCOPED_CSS = False
    DEFAULT_CSS = """
    FieldRow { height: auto; width: 1fr; margin-bottom: 1; }
    FieldRow > .field-row--line { height: auto; width: 1fr; }
    FieldRow .field-row--label { width: 20; padding-right: 1; color: $text; }
    FieldRow .field-row--label.-required { text-style: bold; }
    FieldRow .field-row--control { width: 1fr; }
    FieldRow Input, FieldRow Select { width: 1fr; }
    FieldRow FieldStatus { margin-left: 20; }
    /* 80 columns: a slimmer label, the status under the field. */
    Screen.-narrow FieldRow .field-row--label { width: 17; }
    Screen.-narrow FieldRow FieldStatus { margin-left: 2; }
    """

    def __init__(
        self,
        label: str,
        control: Widget,
        *,
        required: bool = False,
        status_id: str | None = None,
        id: str | None = None,
        extra: Widget | None = None,
    ) -> None:
        super().__init__(id=id)
        self._label = label + (" *" if required else "")
        self._required = required
        self.control = control
        self.extra = extra
        self.status = FieldStatus(id=status_id)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-row--line"):
            label = Label(self._label, classes="field-row--label")
            label.set_class(self._required, "-required")
            yield label
            self.control.add_class("field-row--control")
            yield self.control
            if self.extra is not None:
                yield self.extra
        yield self.status
