"""Step 1: pick the data source — every type of Elastic's connector service, grouped and
searchable, each marked with the service that runs it — see what it needs first (and Elastic's
reference page), and let the environment doctor check this machine."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, OptionList, Static
from textual.widgets.option_list import Option

from sluice.core.doctor import planned_environment_checks, run_environment_checks
from sluice.sources.registry import SourceInfo, source_catalog
from sluice.tui.screens.steps.base import Step
from sluice.tui.widgets.badges import escape
from sluice.tui.widgets.check_list import CheckList, CheckView
from sluice.tui.widgets.toggles import TickList


class DoctorResult(Message):
    """One environment check finished (posted by the doctor worker)."""

    def __init__(self, view: CheckView) -> None:
        self.view = view
        super().__init__()


class DoctorDone(Message):
    """The doctor worker finished all its checks."""


class PrerequisitesStep(Step):
    TITLE = "1. Prerequisites"
    HELP = "Choose the data source to sync, and check what it needs before you start."

    DEFAULT_CSS = """
    PrerequisitesStep #source-list { height: auto; max-height: 8; border: round $primary 40%; }
    PrerequisitesStep #source-list:focus { border: round $primary; }
    PrerequisitesStep #prereq-list { height: auto; max-height: 8; border: none; padding: 0; }
    PrerequisitesStep #prereq-runner { color: $text-muted; }
    PrerequisitesStep #run-by-elastic { margin-top: 0; }
    PrerequisitesStep #doctor-head { height: 1; margin-top: 1; }
    PrerequisitesStep #doctor-head > Static { width: 1fr; text-style: bold; }
    """

    def __init__(self, session) -> None:
        super().__init__(session)
        self._sources: list[SourceInfo] = []
        self._doctor_done = False
        self._submitted = False  # Enter pressed in the search since its text last changed

    def compose(self) -> ComposeResult:
        yield from self.compose_intro()
        yield Input(
            placeholder="Search sources (name or description)…", id="source-search", compact=True
        )
        yield OptionList(id="source-list")
        yield Static("", id="prereq-title", classes="section")
        yield TickList(id="prereq-list")
        yield Static("", id="prereq-runner")
        yield Checkbox(
            "Run it with Elastic's connector service instead of Sluice's engine",
            self.session.state.runner == "elastic",
            id="run-by-elastic",
            compact=True,
        )
        with Horizontal(id="doctor-head", classes="row"):
            yield Static("Environment doctor")
            yield Button("Run again", id="doctor-rerun", compact=True)
        yield CheckList(id="doctor", empty="Checks start in a moment…")

    def on_mount(self) -> None:
        try:
            self._sources = source_catalog()
        except Exception as exc:  # a broken plugin must not break the wizard
            self._sources = []
            self.notify(f"Could not list the sources: {exc}", severity="error")
        self._fill_sources("")
        self.run_doctor()

    # ------------------------------------------------------------------ sources
    def _fill_sources(self, query: str) -> None:
        query = query.strip().lower()
        options = []
        group = None
        for info in self._matching(query):
            if not query and info.category != group:  # grouped until the user searches
                group = info.category
                options.append(Option(f"[b $accent]{escape(group)}[/]", disabled=True))
            chosen = "● " if info.service_type == self.session.state.service_type else "  "
            runner = "Sluice" if info.runner == "sluice" else "Elastic's service"
            options.append(
                Option(
                    f"{chosen}[b]{escape(info.display_name)}[/b] ({info.service_type}) "
                    f"[dim]· {runner}[/dim]\n"
                    f"   [dim]{escape(info.description)}[/dim]",
                    id=info.service_type,
                )
            )
        source_list = self.query_one("#source-list", OptionList)
        source_list.set_options(options)
        if not options:
            source_list.add_option(Option("No source matches the search.", disabled=True))
        chosen = self.session.state.service_type
        ids = [option.id for option in options]
        if chosen in ids:  # the chosen source in view, among some 30
            source_list.highlighted = ids.index(chosen)
        self._show_prerequisites()

    def _matching(self, query: str) -> list[SourceInfo]:
        """Every source (grouped) without a query; with one, those whose name or type
        matches first, then those whose description or category does."""
        if not query:
            return list(self._sources)
        named, described = [], []
        for info in self._sources:
            if query in f"{info.display_name} {info.service_type}".lower():
                named.append(info)
            elif query in f"{info.description} {info.category}".lower():
                described.append(info)
        return named + described

    @on(Input.Changed, "#source-search")
    def _search(self, event: Input.Changed) -> None:
        self._submitted = False
        self._fill_sources(event.value)

    @on(Input.Submitted, "#source-search")
    def _search_done(self) -> None:
        """Enter in the search picks the only match; with several, it moves to the list
        with the first highlighted, so a second Enter picks it — also when typed so fast
        that it reaches the search box before the focus has moved."""
        source_list = self.query_one("#source-list", OptionList)
        if self._submitted and source_list.highlighted is not None:
            option = source_list.get_option_at_index(source_list.highlighted)
            if option.id and not option.disabled:
                source_list.focus()
                self.choose(option.id)
                return
        self._submitted = True
        matches = [
            index
            for index in range(source_list.option_count)
            if not source_list.get_option_at_index(index).disabled
        ]
        if matches:  # past the group headings
            source_list.highlighted = matches[0]
        source_list.focus()
        only = source_list.get_option_at_index(matches[0]) if len(matches) == 1 else None
        if only is not None and only.id:  # one match: Enter picks it
            self.choose(only.id)

    @on(OptionList.OptionSelected, "#source-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.choose(event.option.id)

    def choose(self, service_type: str) -> None:
        """Pick a source type (also used by tests and the command palette)."""
        state = self.session.state
        if state.service_type != service_type:
            state.service_type = service_type
            self.session.source_configuration = None
            self.session.save()
        self._fill_sources(self.query_one("#source-search", Input).value)
        self.changed()

    def _show_prerequisites(self) -> None:
        info = next(
            (s for s in self._sources if s.service_type == self.session.state.service_type), None
        )
        title = self.query_one("#prereq-title", Static)
        checklist = self.query_one("#prereq-list", TickList)
        runner = self.query_one("#prereq-runner", Static)
        hand_over = self.query_one("#run-by-elastic", Checkbox)
        checklist.set_items([])
        if info is None:
            title.update("Pick a source above (Enter) to see what it needs.")
            runner.update("")
            hand_over.display = False
            return
        title.update(f"Before you start — {escape(info.display_name)} needs (tick when ready):")
        checklist.set_items(list(info.prerequisites))
        if not info.prerequisites:
            title.update(f"{escape(info.display_name)} needs nothing special.")
        hand_over.display = info.runner == "sluice"
        if self.session.run_by_elastic:
            words = (
                "Run by Elastic's connector service: Sluice creates the connector, writes "
                "config.yml, gives the commands to start the service, and watches it."
            )
        else:
            words = "Run by Sluice's engine, here or with `sluice run`."
        if info.docs_url:
            words += f" Reference: {info.docs_url}"
        runner.update(escape(words))

    @on(Checkbox.Changed, "#run-by-elastic")
    def _runner_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        runner = "elastic" if event.value else ""
        if runner != self.session.state.runner:
            self.session.state.runner = runner
            self.session.source_configuration = None
            self.session.save()
        self._show_prerequisites()
        self.changed()

    # ------------------------------------------------------------------ doctor
    @on(Button.Pressed, "#doctor-rerun")
    def _rerun(self) -> None:
        self.run_doctor()

    def run_doctor(self) -> None:
        self._doctor_done = False
        self.query_one(CheckList).begin(planned_environment_checks(self.session.config_path))
        self._doctor_worker()
        self.changed()

    @work(exclusive=True, group="doctor")
    async def _doctor_worker(self) -> None:
        async for result in run_environment_checks(self.session.config_path):
            self.post_message(DoctorResult(CheckView.from_result(result)))
        self.post_message(DoctorDone())

    def on_doctor_result(self, message: DoctorResult) -> None:
        self.query_one(CheckList).record(message.view)

    def on_doctor_done(self, _message: DoctorDone) -> None:
        self._doctor_done = True
        self.changed()

    # ------------------------------------------------------------------ contract
    def blocker(self) -> str | None:
        if not self.session.state.service_type:
            return "Pick the data source to sync (search, then Enter)."
        if not self._doctor_done:
            return "The environment doctor is still checking this machine…"
        failed = [v.title for v in self.query_one(CheckList).views if v.status == "fail"]
        if failed:
            return f"Fix the failed check first: {', '.join(failed)} (then Run again)."
        return None

    def palette_commands(self) -> list:
        from sluice.tui.commands import PaletteCommand

        return [
            PaletteCommand(
                "Run the environment doctor again", "Re-check this machine", self.run_doctor
            )
        ]
