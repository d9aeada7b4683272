"""Step 6: the content index — a new one (name checked as typed, language) or an existing one
(its mappings checked) — and optionally an API key limited to this connector.

Two connectors writing one index delete each other's documents on every full sync, so the
step lists the index of every other connector and every existing index up front: the name it
suggests is free (`search-x`, else `search-x-2`...), and a name another connector uses is
flagged as the user types it, before Next.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Checkbox, Input, OptionList, RadioSet, Select, Static
from textual.widgets.option_list import Option

from sluice.core.checks.index_names import index_name_problems, unused_index_name
from sluice.core.echo import ellipsize
from sluice.core.languages import LANGUAGES
from sluice.core.secrets import SecretPlacement, mask
from sluice.tui.screens.steps.base import Step
from sluice.tui.widgets.badges import escape
from sluice.tui.widgets.field_status import FieldStatus
from sluice.tui.widgets.form import FieldRow
from sluice.tui.widgets.toggles import MarkedCheckbox, MarkedRadioButton

DEBOUNCE_SECONDS = 0.5


class IndicesListed(Message):
    """The cluster's indices, and which of those names other connectors write to."""

    def __init__(self, names: list[str], owners: dict[str, str], error: str = "") -> None:
        self.names = names
        self.owners = owners  # index name -> "connector 'Name' (id)"
        self.error = error
        super().__init__()


class IndexChecked(Message):
    def __init__(self, generation: int, name: str, results: list, error: str = "") -> None:
        self.generation = generation
        self.name = name
        self.results = results
        self.error = error
        super().__init__()


def describe_owner(connector) -> str:
    """How a connector is named in "used by ..." messages."""
    if connector.name:
        return f"connector '{ellipsize(connector.name, 40)}' ({connector.id})"
    return f"connector {connector.id}"


class IndexStep(Step):
    TITLE = "6. Index"
    HELP = "Where the documents go: a new index, or one that already exists."
    NEXT_LABEL = "Save & next"

    DEFAULT_CSS = """
    IndexStep #index-mode { height: auto; width: 1fr; border: round $primary 40%; }
    IndexStep #index-mode:focus-within { border: round $primary; }
    IndexStep #index-list { height: auto; max-height: 8; }
    IndexStep #existing-box, IndexStep #new-box { height: auto; }
    IndexStep #scoped-note { color: $text-muted; margin-left: 4; }
    """

    def __init__(self, session) -> None:
        super().__init__(session)
        self._debounce: Timer | None = None
        self._generation = 0
        self._checked_name: str | None = None
        self._check_results: list = []
        self._checking = False
        self._local_problems: list[str] = []
        self._listed = False
        self._indices: list[str] = []
        self._owners: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        state = self.session.state
        yield from self.compose_intro()
        with RadioSet(id="index-mode"):
            yield MarkedRadioButton(
                "Create a new index", id="mode-new", value=state.index_mode == "new"
            )
            yield MarkedRadioButton(
                "Use an existing index", id="mode-existing", value=state.index_mode == "existing"
            )
        with Vertical(id="new-box"):
            yield FieldRow(
                "Index name",
                Input(
                    state.index_name, placeholder="search-my-content", id="index-name", compact=True
                ),
                required=True,
                status_id="index-name-status",
            )
            yield FieldRow(
                "Language",
                Select(
                    [(name, code) for code, name, _ in LANGUAGES],
                    value=state.language,
                    allow_blank=False,
                    id="index-language",
                    compact=True,
                ),
            )
        with Vertical(id="existing-box"):
            yield Static("Indices in this cluster (Enter to pick):", classes="note")
            yield OptionList(id="index-list")
            yield FieldStatus(id="index-existing-status")
        yield MarkedCheckbox(
            "Create an API key limited to this connector", id="scoped-key", value=state.scoped_key
        )
        yield Static(
            "It may only write this index (and its .search-acl-filter- twin) and the connector "
            "records; stored where step 4 put the other secret. Needs a cluster with security.",
            id="scoped-note",
        )
        yield FieldStatus(id="index-status")

    def on_enter(self) -> None:
        self._listed = False
        self._show_mode()
        self._list_indices()
        self._schedule_check(now=True)

    @property
    def taken(self) -> set[str]:
        """Names a suggestion must avoid: other connectors' indices and existing indices."""
        return set(self._owners) | set(self._indices)

    def _suggest(self, name: str) -> str:
        return unused_index_name(name, self.taken)

    # ------------------------------------------------------------------ mode
    @on(RadioSet.Changed, "#index-mode")
    def _mode_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        mode = "existing" if event.pressed.id == "mode-existing" else "new"
        if mode != self.session.state.index_mode:
            self.session.state.index_mode = mode
            self.session.save()
        self._show_mode()
        self._schedule_check(now=True)

    def _show_mode(self) -> None:
        existing = self.session.state.index_mode == "existing"
        self.query_one("#new-box").display = not existing
        self.query_one("#existing-box").display = existing

    # ------------------------------------------------------------------ new index
    @on(Input.Changed, "#index-name")
    def _name_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value != self.session.state.index_name:
            self.session.state.index_name = event.value
            self.session.save()
        self._schedule_check()

    @on(Select.Changed, "#index-language")
    def _language_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL:
            self.session.state.language = str(event.value)
            self.session.save()

    @on(Checkbox.Changed, "#scoped-key")
    def _scoped_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.session.state.scoped_key = event.value
        self.session.save()
        self.query_one("#index-status", FieldStatus).clear()
        self.changed()

    def _schedule_check(self, now: bool = False) -> None:
        """Local rules (and the names other connectors use) at once, on every key press; the
        cluster's view of the index after a pause. Earlier results are dropped at once."""
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        self._generation += 1
        self._checking = False
        self._checked_name = None
        self._check_results = []
        self.query_one("#index-status", FieldStatus).clear()  # said something of another name
        state = self.session.state
        name = state.index_name.strip()
        status = self._status_widget()
        if not name and not self._listed and state.connector_name:
            self._local_problems = ["is empty"]
            status.show("running", "looking for a name no other connector uses…")
            self.changed()
            return
        self._local_problems = self._problems(name)
        if self._local_problems:
            shown = repr(ellipsize(name)) if name else "the name"
            suggestion = self._suggest(name or state.connector_name or "content")
            status.show(
                "fail",
                f"{shown} " + "; ".join(self._local_problems),
                f"try {ellipsize(suggestion)!r}",
            )
            self.changed()
            return
        status.show("running", f"checking {ellipsize(name)} in the cluster…")
        self.changed()
        generation = self._generation
        if now:
            self._check_index(generation)
        else:
            self._debounce = self.set_timer(DEBOUNCE_SECONDS, lambda: self._check_index(generation))

    def _problems(self, name: str) -> list[str]:
        """What rules out `name` before asking the cluster: Elasticsearch's naming rules,
        and another connector writing there."""
        if not name:
            return ["is empty"]
        problems = index_name_problems(name)
        owner = self._owners.get(name)
        if owner:
            problems.append(
                f"is used by {owner}: two connectors in one index delete each other's documents"
            )
        return problems

    def _status_widget(self) -> FieldStatus:
        if self.session.state.index_mode == "existing":
            return self.query_one("#index-existing-status", FieldStatus)
        return self.query_one("#index-name-status", FieldStatus)

    def _check_index(self, generation: int) -> None:
        if generation != self._generation:
            return  # a timer event that was already queued when the name changed again
        self._checking = True
        self._check_worker(generation, self.session.state.index_name.strip())

    @work(exclusive=True, group="index-check")
    async def _check_worker(self, generation: int, name: str) -> None:
        try:
            async with self.session.cluster() as cluster:
                results = await cluster.index_checks(name)
        except Exception as exc:
            self.post_message(IndexChecked(generation, name, [], f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(IndexChecked(generation, name, results))

    def on_index_checked(self, message: IndexChecked) -> None:
        if (
            message.generation != self._generation
            or message.name != self.session.state.index_name.strip()
        ):
            return  # about a name the user has changed since
        self._checking = False
        self._checked_name = message.name
        self._check_results = message.results
        status = self._status_widget()
        if message.error:
            status.show("fail", f"could not check the index: {message.error}")
        else:
            shown = [r for r in message.results if r.status != "skip"]
            if any(r.id != "index_name" for r in shown):
                # "'x' is a valid name" adds nothing next to what the cluster says of 'x'
                shown = [r for r in shown if r.id != "index_name" or r.status != "ok"]
            status.show_many([(r.status, r.message, r.hint or "") for r in shown])
        self.changed()

    # ------------------------------------------------------------------ existing index
    @work(exclusive=True, group="index-list")
    async def _list_indices(self) -> None:
        own = self.session.state.connector_id
        try:
            async with self.session.cluster() as cluster:
                names = await cluster.list_indices()
                connectors = await cluster.list_connectors()
        except Exception as exc:
            self.post_message(IndicesListed([], {}, f"{type(exc).__name__}: {exc}"))
            return
        owners = {
            c.index_name: describe_owner(c) for c in connectors if c.index_name and c.id != own
        }
        self.post_message(IndicesListed(names, owners))

    def on_indices_listed(self, message: IndicesListed) -> None:
        self._listed = True
        self._indices, self._owners = list(message.names), dict(message.owners)
        option_list = self.query_one("#index-list", OptionList)
        option_list.clear_options()
        if message.error:
            option_list.add_option(
                Option(f"Could not list: {escape(message.error)}", disabled=True)
            )
        for name in message.names:
            marker = "● " if name == self.session.state.index_name else "  "
            owner = self._owners.get(name)
            used = f" [dim](used by {escape(owner)})[/dim]" if owner else ""
            option_list.add_option(Option(f"{marker}{escape(name)}{used}", id=name))
        if not message.names and not message.error:
            option_list.add_option(Option("No index yet: create a new one.", disabled=True))
        state = self.session.state
        name = state.index_name.strip()
        if not name and state.connector_name:
            self._set_name(self._suggest(state.connector_name))
        elif not name or name in self._owners:
            self._schedule_check(now=True)  # the name is known to be taken only now

    def _set_name(self, name: str) -> None:
        """Fill the name field for the user (the check runs once, here)."""
        self.session.state.index_name = name
        self.session.save()
        name_input = self.query_one("#index-name", Input)
        with name_input.prevent(Input.Changed):
            name_input.value = name
        self._schedule_check(now=True)

    @on(OptionList.OptionSelected, "#index-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self._set_name(event.option.id)

    # ------------------------------------------------------------------ contract
    def blocker(self) -> str | None:
        name = self.session.state.index_name.strip()
        if not name:
            if not self._listed and self.session.state.connector_name:
                return "Looking for a free index name…"
            return "Name the index (or pick an existing one)."
        if name in self._owners:
            return "Another connector uses this index: choose another name."
        if self._local_problems:
            return "The index name is not valid — see the message under it."
        if self._checking or self._checked_name != name:
            return "Checking the index…"
        failed = [r for r in self._check_results if r.status == "fail"]
        if failed:
            return f"{failed[0].title}: see the message above."
        return None

    async def commit(self) -> bool:
        """One workflow connects the index (and the API key, its secret, config.yml's
        entry) or undoes what it did; the step shows what it says."""
        from sluice.core.config import ConfigError
        from sluice.core.workflows import IndexConnection, IndexNotConnected, InvalidConnectorInput
        from sluice.core.workflows.config_file import config_document

        state = self.session.state
        status = self.query_one("#index-status", FieldStatus)
        name = state.index_name.strip()
        if not state.connector_id:
            status.show("fail", "no connector yet", "go back to step 3")
            return False
        placement = SecretPlacement(state.secret_placement)
        env_file = None
        if state.scoped_key and placement is SecretPlacement.ENV:
            # Elasticsearch shows a new key once: keep it where ${VAR} can find it.
            env_file = self.session.state_file.parent / "sluice.env"
        request = IndexConnection(
            connector_id=state.connector_id,
            service_type=state.service_type or "",
            index_name=name,
            connector_name=state.connector_name or name,
            language=state.language or None,
            existing_index=True if state.index_mode == "existing" else None,
            api_key=state.scoped_key,
            placement=placement,
            env_file=env_file,
        )
        status.show("running", f"preparing {name}…")
        try:
            document = config_document(state.config_path, {}, None) if state.scoped_key else None
            async with self.session.cluster() as cluster:
                connected = await cluster.connect_index(request, document)
        except IndexNotConnected as exc:
            hint = "untick the API key box to go on" if exc.code == "no_api_key" else ""
            status.show("fail", str(exc), hint)
            return False
        except (InvalidConnectorInput, ConfigError) as exc:
            status.show("fail", str(exc))
            return False
        except Exception as exc:
            status.show("fail", f"{type(exc).__name__}: {exc}")
            return False
        verb = "created" if connected.index_created else "kept (it already existed)"
        message = f"index {name} {verb} and attached to the connector"
        if connected.api_key is not None:
            self.session.scoped_api_key = connected.api_key.encoded
            message += f"; API key {mask(connected.api_key.encoded)} stored"
            if connected.env_file is not None:
                message += (
                    f" in {connected.env_file} (0600: use it as the service's EnvironmentFile)"
                )
        status.show("ok", message)
        self.session.save()
        return True
