"""Step 5: the source's own settings, as a form generated from its schema, with a real
"Test connection" (validate_config + ping in a worker). Values are saved to the connector
record — where Elastic's service and Kibana read them too.

For a connector Elastic's connector service runs, the schema is the one that service writes
when it checks in: the step watches the record (and explains a silence) until it lands,
then "Save & validate" stores the values (`configured`) and the service's verdict —
`connected`, or `error` with its message — shows on the form as it arrives."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Static

from sluice.core.protocol.checkin import read_checkin
from sluice.sources.checking import (
    SourceTest,
    check_source,
    form_feedback,
    merge_configuration,
)
from sluice.sources.registry import find_source
from sluice.sources.schema import complete_schema, validate_configuration
from sluice.tui.screens.steps.base import Step
from sluice.tui.widgets.badges import escape
from sluice.tui.widgets.checkin_watch import CheckinWatch
from sluice.tui.widgets.copyable import CopyableValue
from sluice.tui.widgets.field_status import FieldStatus
from sluice.tui.widgets.schema_form import SchemaForm


def sample_data_directory() -> Any:
    """The bundled sample folder, if any (the `dir` source and its extraction stack load
    here, when step 5 asks, not at start-up)."""
    from sluice.sources.directory.source import sample_data_directory as find

    return find()


#: How long Next waits for Elastic's service to judge saved settings (its loop is 30 s).
VERDICT_WAIT_SECONDS = 45.0
VERDICT_POLL_SECONDS = 1.0


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
    SourceDetailsStep #setup-links { height: auto; margin-top: 1; }
    SourceDetailsStep #setup-links CopyableValue { height: auto; }
    """

    def __init__(self, session) -> None:
        super().__init__(session)
        self._form_key: tuple | None = None
        self._errors: dict[str, str] = {}
        self._touched: set[str] = set()
        self._testing = False
        # Elastic's service runs it: what was saved, and its verdict on exactly that
        self._saved: str | None = None
        self._loading: tuple | None = None  # the form being built from the record
        self._verdict: tuple[str, str] | None = None  # ("connected" | "error", message)

    def compose(self) -> ComposeResult:
        yield from self.compose_intro()
        yield CheckinWatch(self.session, id="checkin")
        yield Static("", id="source-title", classes="section")
        yield Vertical(id="form-holder")
        with Horizontal(id="source-actions"):
            yield Button("Test connection", id="source-test-button", compact=True)
            yield Button("Use the sample folder", id="use-sample", compact=True)
        yield FieldStatus(id="source-test")
        yield Vertical(id="setup-links")

    @property
    def form(self) -> SchemaForm | None:
        forms = self.query(SchemaForm)
        return forms.first() if forms else None

    @property
    def elastic(self) -> bool:
        """Elastic's connector service runs this connector (its schema, its verdict)."""
        return bool(self.session.run_by_elastic)

    def on_enter(self) -> None:
        state = self.session.state
        key = (state.service_type, state.connector_id)
        sample = sample_data_directory()
        watch = self.query_one("#checkin", CheckinWatch)
        watch.display = self.elastic
        self.NEXT_LABEL = "Save, validate & next" if self.elastic else type(self).NEXT_LABEL
        self.query_one("#source-test-button", Button).label = (
            "Save & validate" if self.elastic else "Test connection"
        )
        self.query_one("#use-sample").display = (
            state.service_type == "dir" and sample is not None and not self.elastic
        )
        self.query_one("#source-actions").display = not self.elastic or self.form is not None
        if self.elastic:
            if key != self._form_key:
                self.query_one("#source-title", Static).update("")
            watch.start()
            return
        watch.stop()
        if key != self._form_key:
            self.query_one("#source-title", Static).update("Loading the connector's settings…")
            self._load(key)

    def on_leave(self) -> None:
        self.query_one("#checkin", CheckinWatch).stop()

    # ------------------------------------------------------------------ Elastic's service
    @on(CheckinWatch.Read)
    def _record_read(self, message: CheckinWatch.Read) -> None:
        """The record as the service left it: its schema becomes the form (once), its
        verdict on the saved values shows under the form."""
        if not self.elastic:
            return
        reading, connector = message.reading, message.connector
        key = (self.session.state.service_type, self.session.state.connector_id)
        if connector is not None and reading.checked_in and reading.has_schema:
            if key != self._form_key and key != self._loading:
                self._loading = key  # once: later readings must not rebuild the form
                self.post_message(
                    ConfigurationLoaded(key, complete_schema(connector.configuration))
                )
            elif self._saved is not None and reading.phase.value in ("connected", "error"):
                values = _digest(connector.configuration)
                if values == self._saved:
                    self._show_verdict(reading.phase.value, reading.error or "")
        self.changed()

    def _show_verdict(self, verdict: str, error: str) -> None:
        if self._verdict == (verdict, error):
            return
        self._verdict = (verdict, error)
        self._testing = False
        self.query_one("#checkin", CheckinWatch).start()  # its line says the same, now
        self.query_one("#source-test-button", Button).disabled = False
        status = self.query_one("#source-test", FieldStatus)
        form = self.form
        if verdict == "connected":
            status.show("ok", "Elastic's connector service validated the settings: connected.")
            if form is not None:
                form.show_errors({})
            return
        field = _field_named_in(error, form)
        if form is not None and field is not None:
            form.show_errors({field: f"Elastic's service: {error}"})
            label = form.fields[field].entry.get("label") or field
            status.show("fail", f"the service rejected the settings: see {label}")
        else:
            status.show(
                "fail",
                f"Elastic's service: {error or 'error (no message)'}",
                "fix the settings and Save & validate again",
            )

    @on(CheckinWatch.DeployRequested)
    def _deploy(self, event: CheckinWatch.DeployRequested) -> None:
        event.stop()
        from sluice.tui.screens.deploy import DeployScreen

        def started(target: str | None) -> None:
            if target:
                self.query_one("#checkin", CheckinWatch).start()

        self.app.push_screen(DeployScreen(self.session), started)

    async def _commit_for_service(self, configuration: dict) -> bool:
        """Next: save what changed, then wait (bounded) for the service's verdict on it."""
        import asyncio

        status = self.query_one("#source-test", FieldStatus)
        current = _digest(configuration)
        if self._saved == current and self._verdict is not None:
            if self._verdict[0] == "connected":
                self.session.source_configuration = configuration
                return True
            return False  # its error is on the form already
        connector_id = self.session.state.connector_id or ""
        status.show("running", "saving; Elastic's connector service validates on its next loop…")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + VERDICT_WAIT_SECONDS
        try:
            async with self.session.cluster() as cluster:
                if self._saved != current:
                    await cluster.save_configuration(connector_id, configuration)
                    self._saved, self._verdict = current, None
                while loop.time() < deadline:
                    connector = await cluster.get_connector(connector_id)
                    reading = read_checkin(connector)
                    if (
                        connector is not None
                        and reading.phase.value in ("connected", "error")
                        and _digest(connector.configuration) == current
                    ):
                        self._show_verdict(reading.phase.value, reading.error or "")
                        break
                    await asyncio.sleep(VERDICT_POLL_SECONDS)
        except Exception as exc:
            status.show("fail", f"could not save to the connector record: {exc}")
            return False
        if self._verdict is None:
            status.show(
                "warn",
                f"saved; no verdict from Elastic's service within {VERDICT_WAIT_SECONDS:.0f} s",
                "it validates every `service.idling` seconds (30 by default): the line above "
                "shows it when it lands; press Next again then",
            )
            return False
        if self._verdict[0] == "connected":
            self.session.source_configuration = configuration
            return True
        return False

    @work(exclusive=True, group="source-save")
    async def _save_for_service(self, configuration: dict) -> None:
        """Store the values with `configured`: Elastic's service validates on its next loop."""
        state = self.session.state
        status = self.query_one("#source-test", FieldStatus)
        try:
            async with self.session.cluster() as cluster:
                await cluster.save_configuration(state.connector_id or "", configuration)
        except Exception as exc:
            self._testing = False
            self.query_one("#source-test-button", Button).disabled = False
            status.show("fail", f"could not save to the connector record: {exc}")
            self.changed()
            return
        self._saved = _digest(configuration)
        self._verdict = None
        status.show(
            "running",
            "saved — waiting for Elastic's connector service to validate them (on its next "
            "loop: `service.idling`, 30 s by default)…",
        )
        self.query_one("#checkin", CheckinWatch).start()
        self.changed()

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
        info = find_source(self.session.state.service_type or "")
        name = info.display_name if info else self.session.state.service_type
        title.update(f"{escape(name or '')} settings")
        form = SchemaForm(message.configuration, id="source-form")
        await holder.mount(form)
        self.query_one("#source-actions").display = True
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
        links: list[tuple[str, str]] = []
        try:
            if self.elastic:  # the schema's own rules; the service judges the rest
                errors = validate_configuration(configuration)
            else:
                feedback = form_feedback(self.session.state.service_type or "", configuration)
                errors, links = feedback.errors, feedback.links
        except Exception as exc:
            errors = {"": str(exc)}
        errors.update(form.coerce_errors)
        self._errors = errors
        self._show_setup_links(links)
        shown = errors if show_all else {k: v for k, v in errors.items() if k in self._touched}
        form.show_errors(shown)
        self.changed()

    def _show_setup_links(self, links: list[tuple[str, str]]) -> None:
        """The source's addresses for these values (an admin-consent page), to copy."""
        holder = self.query_one("#setup-links", Vertical)
        holder.display = bool(links)  # no blank line for a source without links
        shown = list(holder.query(CopyableValue))
        if [w.label for w in shown] == [label for label, _ in links]:
            for widget, (_, address) in zip(shown, links, strict=True):
                widget.value = address
            return
        holder.remove_children()
        holder.mount_all(CopyableValue(label, address) for label, address in links)

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
        if self.elastic:
            if self._errors:
                return  # each error shows under its field
            self._testing = True
            self.query_one("#source-test", FieldStatus).show("running", "saving the settings…")
            self.query_one("#source-test-button", Button).disabled = True
            self._save_for_service(form.configuration())
            self.changed()
            return
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
        if self.elastic:
            reading = self.query_one("#checkin", CheckinWatch).reading
            if reading is None:
                return "Looking at the connector record…"
            if not reading.checked_in:
                return "Waiting for Elastic's connector service to check in (Deploy… says how)."
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
        if self.elastic and self._testing:
            return "Elastic's connector service is validating the settings…"
        if (
            self.elastic
            and self._verdict is not None
            and self._verdict[0] == "error"
            and self._saved == _digest(self.form.configuration())
        ):
            return "Elastic's service rejected these settings: fix them (see the message)."
        return None

    async def commit(self) -> bool:
        form = self.form
        state = self.session.state
        if form is None or not state.connector_id:
            return False
        if self.elastic:
            return await self._commit_for_service(form.configuration())
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


def _digest(configuration: dict) -> str:
    """The values of a configuration, comparable across a save and a read of the record."""
    import json

    values = {
        key: (entry.get("value") if isinstance(entry, dict) else None)
        for key, entry in configuration.items()
    }
    return json.dumps(values, sort_keys=True, default=str)


def _field_named_in(error: str, form: SchemaForm | None) -> str | None:
    """The field a service's error message is about, when it names its label or key."""
    if form is None or not error:
        return None
    lowered = error.lower()
    for key, field in form.fields.items():
        label = str(field.entry.get("label") or "")
        if (label and label.lower() in lowered) or key.lower() in lowered.replace(" ", "_"):
            return key
    return None
