"""Step 5: the source's own settings, as a form generated from its schema, with a real
"Test connection" (validate_config + ping in a worker). Values are saved to the connector
record — where Elastic's service and Kibana read them too."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Static

from sluice.sources.checking import (
    SourceTest,
    check_source,
    configuration_errors,
    merge_configuration,
)
from sluice.sources.directory.source import sample_data_directory
from sluice.sources.registry import available_sources
from sluice.tui.screens.steps.base import Step
from sluice.tui.widgets.badges import escape
from sluice.tui.widgets.field_status import FieldStatus
from sluice.tui.widgets.schema_form import SchemaForm


class ConfigurationLoaded(Message):
    def __init__(self, key: tuple, configuration: dict | None, error: str = "") -> None:
        self.key = key
        self.configuration = configuration
        self.error = error
        super().__init__()


class SourceTested(Message):
    def __init__(self, result: SourceTest) -> None:
        self.result = result
        super().__init__()


class SourceDetailsStep(Step):
    TITLE = "5. Source details"
    HELP = "Settings of the data source. Fields marked * are required; Tab moves between them."
    NEXT_LABEL = "Test, save & next"

    DEFAULT_CSS = """
    SourceDetailsStep #form-holder { height: auto; }
    SourceDetailsStep #source-actions { height: auto; margin-top: 1; }
    SourceDetailsStep #source-actions > Button { margin-right: 2; }
    """

    def __init__(self, session) -> None:
        super().__init__(session)
        self._form_key: tuple | None = None
        self._errors: dict[str, str] = {}
        self._touched: set[str] = set()
        self._testing = False

    def compose(self) -> ComposeResult:
        yield from self.compose_intro()
        yield Static("", id="source-title", classes="section")
        yield Vertical(id="form-holder")
        with Horizontal(id="source-actions"):
            yield Button("Test connection", id="source-test-button", compact=True)
            yield Button("Use the sample folder", id="use-sample", compact=True)
        yield FieldStatus(id="source-test")

    @property
    def form(self) -> SchemaForm | None:
        forms = self.query(SchemaForm)
        return forms.first() if forms else None

    def on_enter(self) -> None:
        state = self.session.state
        key = (state.service_type, state.connector_id)
        sample = sample_data_directory()
        self.query_one("#use-sample").display = state.service_type == "dir" and sample is not None
        if key != self._form_key:
            self.query_one("#source-title", Static).update("Loading the connector's settings…")
            self._load(key)

    @work(exclusive=True, group="source-load")
    async def _load(self, key: tuple) -> None:
        service_type, connector_id = key
        stored: dict[str, Any] | None = self.session.source_configuration
        if stored is None and connector_id:
            try:
                async with self.session.cluster() as cluster:
                    connector = await cluster.get_connector(connector_id)
            except Exception as exc:
                self.post_message(ConfigurationLoaded(key, None, f"{type(exc).__name__}: {exc}"))
                return
            stored = connector.configuration if connector is not None else None
        try:
            configuration = merge_configuration(service_type, stored)
        except Exception as exc:
            self.post_message(ConfigurationLoaded(key, None, str(exc)))
            return
        self.post_message(ConfigurationLoaded(key, configuration))

    async def on_configuration_loaded(self, message: ConfigurationLoaded) -> None:
        holder = self.query_one("#form-holder", Vertical)
        title = self.query_one("#source-title", Static)
        await holder.remove_children()
        if message.configuration is None:
            title.update(f"Could not load the settings: {escape(message.error)}")
            return
        self._form_key = message.key
        self._touched = set()
        self.session.source_configuration = message.configuration
        info = next(
            (s for s in available_sources() if s.service_type == self.session.state.service_type),
            None,
        )
        name = info.display_name if info else self.session.state.service_type
        title.update(f"{escape(name or '')} settings")
        form = SchemaForm(message.configuration, id="source-form")
        await holder.mount(form)
        self._revalidate()
        if self.display and form.fields:  # the step is on screen: start typing in field one
            first = next(iter(form.fields.values()))
            self.call_after_refresh(first.control.focus)

    # ------------------------------------------------------------------ editing
    @on(SchemaForm.Changed)
    def _form_changed(self, event: SchemaForm.Changed) -> None:
        event.stop()
        self._touched.add(event.key)
        if not self._testing:
            # the last test spoke of other values: its line must not sit beside new errors
            self.query_one("#source-test", FieldStatus).clear()
        self._revalidate()

    def _revalidate(self, show_all: bool = False) -> None:
        form = self.form
        if form is None:
            return
        configuration = form.configuration()
        self.session.source_configuration = configuration
        try:
            errors = configuration_errors(self.session.state.service_type or "", configuration)
        except Exception as exc:
            errors = {"": str(exc)}
        errors.update(form.coerce_errors)
        self._errors = errors
        shown = errors if show_all else {k: v for k, v in errors.items() if k in self._touched}
        form.show_errors(shown)
        self.changed()

    @on(Button.Pressed, "#use-sample")
    def _use_sample(self) -> None:
        sample = sample_data_directory()
        form = self.form
        if sample is not None and form is not None and "directory" in form.fields:
            form.set_value("directory", str(sample))

    # ------------------------------------------------------------------ test
    @on(Button.Pressed, "#source-test-button")
    def test_connection(self) -> None:
        form = self.form
        if form is None or self._testing:
            return
        self._revalidate(show_all=True)
        self._testing = True
        self.query_one("#source-test", FieldStatus).show("running", "testing the connection…")
        self.query_one("#source-test-button", Button).disabled = True
        self._test_worker(self.session.state.service_type or "", form.configuration())
        self.changed()

    @work(exclusive=True, group="source-test")
    async def _test_worker(self, service_type: str, configuration: dict) -> None:
        result = await check_source(service_type, configuration)
        self.post_message(SourceTested(result))

    def on_source_tested(self, message: SourceTested) -> None:
        self._testing = False
        self.query_one("#source-test-button", Button).disabled = False
        self._show_test(message.result)
        self.changed()

    def _show_test(self, result: SourceTest) -> None:
        status = self.query_one("#source-test", FieldStatus)
        form = self.form
        if result.ok:
            status.show("ok", result.message)
            if form is not None:
                form.show_errors({})
        elif (
            form is not None
            and result.field_errors
            and set(result.field_errors) <= set(form.fields)
        ):
            # each message once: under its field, and only a pointer to them here
            form.show_errors(result.field_errors)
            labels = [
                str(form.fields[key].entry.get("label") or key) for key in result.field_errors
            ]
            status.show("fail", f"the test failed: see the message under {', '.join(labels)}")
        else:
            status.show("fail", result.message)
            if form is not None and result.field_errors:
                form.show_errors(result.field_errors)

    # ------------------------------------------------------------------ contract
    def blocker(self) -> str | None:
        if self.form is None:
            return "Loading the settings…"
        if self._testing:
            return "Testing the connection…"
        if self._errors:
            labels = []
            for key in self._errors:
                field = self.form.fields.get(key)
                labels.append(str(field.entry.get("label") or key) if field else key)
            if len(labels) == 1:
                return f"Fix the field {labels[0]}."
            named = ", ".join(labels[:2]) + (f" and {len(labels) - 2} more" if labels[2:] else "")
            return f"Fix {len(labels)} fields: {named}."
        return None

    async def commit(self) -> bool:
        form = self.form
        state = self.session.state
        if form is None or not state.connector_id:
            return False
        configuration = form.configuration()
        status = self.query_one("#source-test", FieldStatus)
        status.show("running", "testing the connection before saving…")
        result = await check_source(state.service_type or "", configuration)
        self._show_test(result)
        if not result.ok:
            return False
        try:
            async with self.session.cluster() as cluster:
                await cluster.save_configuration(state.connector_id, configuration)
        except Exception as exc:
            status.show("fail", f"could not save to the connector record: {exc}")
            return False
        self.session.source_configuration = configuration
        status.show("ok", f"{result.message} Saved to connector {state.connector_id}.")
        return True

    def palette_commands(self) -> list:
        from sluice.tui.commands import PaletteCommand

        return [
            PaletteCommand(
                "Test the source connection", "validate_config + ping", self.test_connection
            )
        ]
