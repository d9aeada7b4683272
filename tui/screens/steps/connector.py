"""Step 3: create the connector record (as Kibana does), or reopen an existing one to edit.

The record is created in Elasticsearch through the connector store; its id and service type
are shown with Copy buttons, since Kibana and config.yml need them.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Button, Collapsible, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from sluice.sources.registry import get_source_class, source_catalog
from sluice.tui.screens.steps.base import Step
from sluice.tui.widgets.badges import escape
from sluice.tui.widgets.copyable import CopyableValue
from sluice.tui.widgets.field_status import FieldStatus
from sluice.tui.widgets.form import FieldRow


class ConnectorsListed(Message):
    def __init__(self, connectors: list, error: str = "") -> None:
        self.connectors = connectors
        self.error = error
        super().__init__()


class ConnectorStep(Step):
    TITLE = "3. Create connector"
    HELP = "The connector record lives in Elasticsearch; Kibana shows it too."
    NEXT_LABEL = "Create & next"

    DEFAULT_CSS = """
    ConnectorStep #existing-list { height: auto; max-height: 8; }
    ConnectorStep #connector-mismatch { color: $text-warning; display: none; }
    ConnectorStep #connector-mismatch.-shown { display: block; }
    """

    def __init__(self, session) -> None:
        super().__init__(session)
        self._sources = []
        self._connectors: list = []

    def compose(self) -> ComposeResult:
        state = self.session.state
        yield from self.compose_intro()
        yield FieldRow(
            "Source type",
            Select([], id="connector-type", allow_blank=True, compact=True, prompt="Pick a source"),
            required=True,
        )
        yield FieldRow(
            "Name",
            Input(
                state.connector_name,
                placeholder="e.g. Team wiki files",
                id="connector-name",
                compact=True,
            ),
            required=True,
            status_id="connector-name-status",
        )
        yield FieldRow(
            "Description",
            Input(
                state.connector_description,
                placeholder="optional",
                id="connector-description",
                compact=True,
            ),
        )
        yield Static("", id="connector-mismatch")
        yield CopyableValue("Connector id", state.connector_id or "", id="connector-id")
        yield CopyableValue("Service type", state.service_type or "", id="connector-service-type")
        yield FieldStatus(id="connector-status")
        with Collapsible(title="Reopen an existing connector", id="existing", collapsed=True):
            yield Static("Connectors in this cluster (Enter to reopen and edit):", classes="note")
            yield OptionList(id="existing-list")
            yield Button("Start a new connector instead", id="connector-new", compact=True)

    def on_mount(self) -> None:
        self._sources = source_catalog()
        select = self.query_one("#connector-type", Select)
        select.set_options(
            [
                (
                    f"{s.display_name} ({s.service_type})"
                    + ("" if s.runner == "sluice" else " · Elastic's service"),
                    s.service_type,
                )
                for s in self._sources
            ]
        )
        if self.session.state.service_type:
            select.value = self.session.state.service_type

    def on_enter(self) -> None:
        state = self.session.state
        select = self.query_one("#connector-type", Select)
        if state.service_type and select.value != state.service_type:
            select.value = state.service_type
        if not state.connector_name and state.service_type:
            name = next(
                (s.display_name for s in self._sources if s.service_type == state.service_type),
                state.service_type,
            )
            self.query_one("#connector-name", Input).value = f"{name} connector"
        self._show_ids()
        self._list_connectors()

    # ------------------------------------------------------------------ edits
    @on(Select.Changed, "#connector-type")
    def _type_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL or event.value == self.session.state.service_type:
            return
        state = self.session.state
        state.service_type = str(event.value)
        self.session.source_configuration = None
        self.session.save()
        self._show_ids()
        self.changed()

    @on(Input.Changed, "#connector-name")
    def _name_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.session.state.connector_name = event.value
        status = self.query_one("#connector-name-status", FieldStatus)
        if event.value.strip():
            status.clear()
        else:
            status.show("fail", "the name is required", "Kibana lists connectors by name")
        self.session.save()
        self.changed()

    @on(Input.Changed, "#connector-description")
    def _description_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.session.state.connector_description = event.value
        self.session.save()

    def _connector_type(self) -> str | None:
        connector = self.session.connector
        return connector.service_type if connector is not None else None

    def _show_ids(self) -> None:
        state = self.session.state
        self.query_one("#connector-id", CopyableValue).value = state.connector_id or ""
        self.query_one("#connector-service-type", CopyableValue).value = state.service_type or ""
        mismatch = self.query_one("#connector-mismatch", Static)
        existing_type = self._connector_type()
        if state.connector_id and existing_type and existing_type != state.service_type:
            mismatch.update(
                f"Connector {state.connector_id} reads '{existing_type}', not "
                f"'{state.service_type}'. Start a new connector below, or pick '{existing_type}'."
            )
            mismatch.add_class("-shown")
        else:
            mismatch.remove_class("-shown")

    # ------------------------------------------------------------------ existing ones
    @work(exclusive=True, group="connectors")
    async def _list_connectors(self) -> None:
        try:
            async with self.session.cluster() as cluster:
                connectors = await cluster.list_connectors()
                current = None
                if self.session.state.connector_id:
                    current = await cluster.get_connector(self.session.state.connector_id)
        except Exception as exc:
            self.post_message(ConnectorsListed([], f"{type(exc).__name__}: {exc}"))
            return
        self.session.connector = current
        self.post_message(ConnectorsListed(connectors))

    def on_connectors_listed(self, message: ConnectorsListed) -> None:
        option_list = self.query_one("#existing-list", OptionList)
        option_list.clear_options()
        self._connectors = message.connectors
        state = self.session.state
        if message.error:
            option_list.add_option(
                Option(f"Could not list: {escape(message.error)}", disabled=True)
            )
        for connector in message.connectors:
            marker = "● " if connector.id == state.connector_id else "  "
            option_list.add_option(
                Option(
                    f"{marker}[b]{escape(connector.name or '(no name)')}[/b] "
                    f"{connector.service_type} · {connector.status or '?'} · "
                    f"{escape(connector.index_name or 'no index')}\n    id {connector.id}",
                    id=connector.id,
                )
            )
        if not message.connectors and not message.error:
            option_list.add_option(Option("No connector in this cluster yet.", disabled=True))
        if state.connector_id and self.session.connector is None and not message.error:
            self.query_one("#connector-status", FieldStatus).show(
                "warn",
                f"connector {state.connector_id} is not in this cluster any more",
                "create a new one (Next) or reopen another",
            )
            state.connector_id = None
            self.session.save()
        self._show_ids()
        self.changed()

    @on(OptionList.OptionSelected, "#existing-list")
    def _reopen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        connector = next((c for c in self._connectors if c.id == event.option.id), None)
        if connector is not None:
            self.reopen(connector)

    def reopen(self, connector) -> None:
        """Edit an existing connector: its answers replace the wizard's."""
        state = self.session.state
        state.connector_id = connector.id
        state.service_type = connector.service_type
        state.connector_name = connector.name
        state.connector_description = connector.description or ""
        state.index_name = connector.index_name or state.index_name
        if connector.index_name:
            state.index_mode = "existing"
        state.forget_from(3)
        self.session.connector = connector
        self.session.source_configuration = None
        self.session.save()
        self.query_one("#connector-type", Select).value = connector.service_type
        self.query_one("#connector-name", Input).value = connector.name
        self.query_one("#connector-description", Input).value = connector.description or ""
        self.query_one("#existing", Collapsible).collapsed = True
        self.query_one("#connector-status", FieldStatus).show(
            "ok", f"reopened {connector.name or connector.id}: the next steps edit it"
        )
        self._show_ids()
        self.changed()

    @on(Button.Pressed, "#connector-new")
    def _start_new(self) -> None:
        state = self.session.state
        state.connector_id = None
        state.forget_from(2)
        self.session.connector = None
        self.session.save()
        self.query_one("#connector-status", FieldStatus).show(
            "ok", "a new connector will be created when you press Next"
        )
        self._show_ids()
        self.changed()

    # ------------------------------------------------------------------ contract
    def blocker(self) -> str | None:
        state = self.session.state
        if not state.service_type:
            return "Pick the source type."
        if not state.connector_name.strip():
            return "Give the connector a name."
        existing_type = self._connector_type()
        if state.connector_id and existing_type and existing_type != state.service_type:
            return "The connector reads another source type: start a new one."
        return None

    async def commit(self) -> bool:
        state = self.session.state
        status = self.query_one("#connector-status", FieldStatus)
        status.show("running", "saving the connector record…")
        try:
            async with self.session.cluster() as cluster:
                if state.connector_id:
                    await cluster.rename_connector(
                        state.connector_id,
                        state.connector_name.strip(),
                        state.connector_description.strip(),
                    )
                    connector = await cluster.get_connector(state.connector_id)
                    verb = "updated"
                elif self.session.run_by_elastic:
                    # as Kibana does: empty, `created`; Elastic's service writes its schema
                    connector = await cluster.create_connector(
                        service_type=state.service_type or "",
                        name=state.connector_name.strip(),
                        description=state.connector_description.strip(),
                        features=None,
                        configuration={},
                    )
                    verb = "created"
                else:
                    source_class = get_source_class(state.service_type or "")
                    connector = await cluster.create_connector(
                        service_type=state.service_type or "",
                        name=state.connector_name.strip(),
                        description=state.connector_description.strip(),
                        features=source_class.features(),
                        configuration=source_class.default_configuration(),
                    )
                    verb = "created"
        except Exception as exc:
            status.show(
                "fail",
                f"could not save the connector: {exc}",
                "check the connection in step 2 and the privileges of the credentials",
            )
            return False
        if connector is None:
            status.show(
                "fail",
                f"connector {state.connector_id} vanished meanwhile",
                "start a new connector",
            )
            return False
        self.session.connector = connector
        state.connector_id = connector.id
        self.session.save()
        self._show_ids()
        status.show("ok", f"connector {connector.id} {verb}")
        self.notify(f"Connector {verb}: {connector.id}", title="Connector")
        return True
