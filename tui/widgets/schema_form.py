"""A form generated from a source's configuration schema (Elastic's format).

text → Input, numeric → integer Input, toggle → check box (X / blank), dropdown → Select,
textarea → Input for lists (comma-separated) or a TextArea for long text; `sensitive`
fields use SecretInput (masked, no copy/cut). Fields appear and disappear with
`depends_on`; `ui_restrictions: ["advanced"]` fields fold into "Advanced settings". A
field's tooltip shows on hover and, so the mouse is never needed, as a hint line while the
field has focus. Rules are not decided here: visibility, coercion and validation come from
`sources.schema`.
"""

from __future__ import annotations

import copy
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Checkbox, Collapsible, Input, Label, Select, Static, TextArea

from sluice.sources.schema import coerce_value, visible_fields
from sluice.tui.widgets.badges import escape
from sluice.tui.widgets.field_status import FieldStatus
from sluice.tui.widgets.secret_input import SecretInput
from sluice.tui.widgets.toggles import MarkedCheckbox


def _display_text(entry: dict[str, Any]) -> str:
    value = entry.get("value")
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


class SchemaField(Vertical):
    """One configuration entry: label, control, focus hint and inline error."""

    #: Unscoped: the narrow rules key on the screen's breakpoint class, outside the widget.
    SCOPED_CSS = False
    DEFAULT_CSS = """
    SchemaField { height: auto; width: 1fr; margin-bottom: 1; }
    SchemaField > .schema-field--line { height: auto; width: 1fr; }
    SchemaField .schema-field--label { width: 22; padding-right: 1; }
    SchemaField .schema-field--label.-required { text-style: bold; }
    SchemaField .schema-field--control { width: 1fr; }
    SchemaField Checkbox.schema-field--control { width: auto; }
    SchemaField TextArea { height: 5; }
    SchemaField .schema-field--hint { display: none; color: $text-muted; margin-left: 22; }
    SchemaField:focus-within .schema-field--hint { display: block; }
    SchemaField FieldStatus { margin-left: 22; }
    /* 80 columns: labels are long ("Maximum file size for text extraction (bytes)"), so the
       label takes a line of its own above its control instead of wrapping word by word. */
    Screen.-narrow SchemaField > .schema-field--line { layout: vertical; }
    Screen.-narrow SchemaField .schema-field--label { width: 1fr; padding-right: 0; }
    Screen.-narrow SchemaField FieldStatus,
    Screen.-narrow SchemaField .schema-field--hint { margin-left: 0; }
    """

    def __init__(self, key: str, entry: dict[str, Any]) -> None:
        super().__init__(id=f"field-{key}")
        self.key = key
        self.entry = entry
        # Built in compose(): widgets must be created inside the running app.
        self.control: Widget = Static()
        self.status = FieldStatus(id=f"field-{key}-status")

    @property
    def required(self) -> bool:
        return bool(self.entry.get("required", True))

    def _make_control(self) -> Widget:
        entry = self.entry
        display = entry.get("display") or "text"
        kind = entry.get("type") or "str"
        control_id = f"input-{self.key}"
        tooltip = entry.get("tooltip") or None
        control: Widget
        if entry.get("sensitive"):
            # a sensitive long text (a PEM key) stays masked; a paste keeps its lines
            multiline = display == "textarea" and kind != "list"
            control = SecretInput(
                _display_text(entry), id=control_id, compact=True, multiline=multiline
            )
        elif display == "toggle" or kind == "bool":
            control = MarkedCheckbox("enabled", value=bool(entry.get("value")), id=control_id)
        elif display == "dropdown":
            options = [
                (str(o.get("label", o.get("value"))), o.get("value"))
                for o in entry.get("options") or []
            ]
            current = entry.get("value")
            values = [value for _, value in options]
            control = Select(
                options,
                value=current if current in values else Select.NULL,
                allow_blank=not self.required or current not in values,
                id=control_id,
                compact=True,
            )
        elif display == "textarea" and kind != "list":
            control = TextArea(_display_text(entry), id=control_id, soft_wrap=True)
        else:
            input_type = "integer" if kind == "int" else "number" if kind == "float" else "text"
            placeholder = "comma-separated" if kind == "list" else ""
            if entry.get("default_value") not in (None, ""):
                placeholder = f"default: {_display_text({'value': entry['default_value']})}"
            control = Input(
                _display_text(entry),
                type=input_type,
                placeholder=placeholder,
                id=control_id,
                compact=True,
            )
        control.tooltip = tooltip
        return control

    def compose(self) -> ComposeResult:
        self.control = self._make_control()
        label_text = str(self.entry.get("label") or self.key) + (" *" if self.required else "")
        with Horizontal(classes="schema-field--line"):
            label = Label(escape(label_text), classes="schema-field--label")
            label.set_class(self.required, "-required")
            yield label
            self.control.add_class("schema-field--control")
            yield self.control
        if self.entry.get("tooltip"):
            yield Static(escape(self.entry["tooltip"]), classes="schema-field--hint")
        yield self.status

    def raw_value(self) -> Any:
        """What the control holds: text, bool, or the option's value."""
        control = self.control
        if isinstance(control, Checkbox):
            return control.value
        if isinstance(control, Select):
            return None if control.value is Select.NULL else control.value
        if isinstance(control, TextArea):
            return control.text
        if isinstance(control, Input):
            return control.value
        return None

    def typed_value(self) -> Any:
        """The value to store; ValueError (naming the field) when the text doesn't fit."""
        raw = self.raw_value()
        if isinstance(raw, str):
            return coerce_value(self.entry, raw)
        return raw


class SchemaForm(Vertical):
    """The whole configuration form; `configuration()` returns the schema with new values."""

    DEFAULT_CSS = """
    SchemaForm { height: auto; width: 1fr; }
    SchemaForm Collapsible { padding: 0; border: none; }
    SchemaForm Collapsible > Contents { padding: 0 0 0 1; }
    """

    class Changed(Message):
        """A value changed (the form re-evaluated which fields show)."""

        def __init__(self, form: SchemaForm, key: str) -> None:
            self.form = form
            self.key = key
            super().__init__()

        @property
        def control(self) -> SchemaForm:
            return self.form

    def __init__(self, configuration: dict[str, dict[str, Any]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._configuration = copy.deepcopy(configuration)
        ordered = sorted(
            self._configuration.items(), key=lambda item: (item[1].get("order") or 0, item[0])
        )
        self.fields: dict[str, SchemaField] = {
            key: SchemaField(key, entry) for key, entry in ordered
        }
        self.coerce_errors: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        basic = [
            f
            for f in self.fields.values()
            if "advanced" not in (f.entry.get("ui_restrictions") or [])
        ]
        advanced = [f for f in self.fields.values() if f not in basic]
        yield from basic
        if advanced:
            with Collapsible(
                title=f"Advanced settings ({len(advanced)})", collapsed=True, id="advanced-settings"
            ):
                yield from advanced

    def on_mount(self) -> None:
        self.refresh_visibility()

    # ------------------------------------------------------------------ values
    def configuration(self) -> dict[str, dict[str, Any]]:
        """The schema with the values as typed (coerced where they can be)."""
        result = copy.deepcopy(self._configuration)
        self.coerce_errors = {}
        for key, field in self.fields.items():
            try:
                result[key]["value"] = field.typed_value()
            except ValueError as exc:
                result[key]["value"] = field.raw_value()
                self.coerce_errors[key] = str(exc)
        return result

    def set_value(self, key: str, value: Any) -> None:
        """Fill a field programmatically (tests, "use the sample folder")."""
        control = self.fields[key].control
        if isinstance(control, Checkbox):
            control.value = bool(value)
        elif isinstance(control, Select):
            control.value = value
        elif isinstance(control, TextArea):
            control.text = str(value)
        elif isinstance(control, Input):
            control.value = "" if value is None else str(value)

    def refresh_visibility(self) -> None:
        visible = set(visible_fields(self.configuration()))
        for key, field in self.fields.items():
            field.display = key in visible

    def show_errors(self, errors: dict[str, str]) -> None:
        """Put each message under its field (coercion errors win); clear the rest."""
        merged = {**errors, **self.coerce_errors}
        for key, field in self.fields.items():
            if key in merged:
                field.status.show("fail", merged[key])
                if "advanced" in (field.entry.get("ui_restrictions") or []):
                    self.query_one("#advanced-settings", Collapsible).collapsed = False
            else:
                field.status.clear()

    def show_ok(self, keys: list[str]) -> None:
        for key in keys:
            if key in self.fields:
                self.fields[key].status.show("ok", "looks right")

    # ------------------------------------------------------------------ events
    def _changed(self, widget: Widget) -> None:
        key = (widget.id or "").removeprefix("input-")
        if key in self.fields:
            self.refresh_visibility()
            self.post_message(self.Changed(self, key))

    @on(Input.Changed)
    def _input(self, event: Input.Changed) -> None:
        event.stop()
        self._changed(event.input)

    @on(Checkbox.Changed)
    def _checkbox(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._changed(event.checkbox)

    @on(Select.Changed)
    def _select(self, event: Select.Changed) -> None:
        event.stop()
        self._changed(event.select)

    @on(TextArea.Changed)
    def _textarea(self, event: TextArea.Changed) -> None:
        event.stop()
        self._changed(event.text_area)
