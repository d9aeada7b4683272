"""The setup wizard: the step list on the left, one step on the right, Back/Next below.

"Next" is enabled only when the step says nothing blocks it (and the reason is shown in
words next to the button); moving on runs the step's `commit()` in a worker, so creating a
connector or writing config.yml never freezes the screen. Every move is saved, so a rerun
resumes at the same step.
"""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Footer, Header, Static

from sluice.tui.commands import PaletteCommand
from sluice.tui.screens.steps.base import Step
from sluice.tui.screens.steps.config_file import ConfigFileStep
from sluice.tui.screens.steps.connector import ConnectorStep
from sluice.tui.screens.steps.elasticsearch import ElasticsearchStep
from sluice.tui.screens.steps.index import IndexStep
from sluice.tui.screens.steps.prerequisites import PrerequisitesStep
from sluice.tui.screens.steps.review import ReviewStep
from sluice.tui.screens.steps.source_details import SourceDetailsStep
from sluice.tui.session import Session
from sluice.tui.widgets.badges import escape
from sluice.tui.widgets.step_list import StepList

STEP_CLASSES: tuple[type[Step], ...] = (
    PrerequisitesStep,
    ElasticsearchStep,
    ConnectorStep,
    ConfigFileStep,
    SourceDetailsStep,
    IndexStep,
    ReviewStep,
)
#: Seconds between the first frame and mounting the steps: a few paint periods.
FIRST_FRAME_GRACE = 0.05

STEP_TITLES = (
    "Prerequisites",
    "Elasticsearch",
    "Create connector",
    "config.yml",
    "Source details",
    "Index",
    "Review & sync",
)


class WizardScreen(Screen):
    """Guided setup of one connector."""

    BINDINGS = [
        Binding("ctrl+n", "next", "Next"),
        Binding("ctrl+b", "back", "Back"),
        Binding("ctrl+l", "focus_steps", "Steps", show=False),
    ]

    DEFAULT_CSS = """
    WizardScreen #wizard-body { height: 1fr; }
    WizardScreen #step-area { width: 1fr; height: 1fr; }
    WizardScreen #steps { height: 1fr; }
    WizardScreen #nav {
        height: auto;
        dock: bottom;
        border-top: hkey $primary 40%;
        padding: 0 1;
        background: $surface;
    }
    WizardScreen #nav-buttons { height: 1; width: 1fr; }
    WizardScreen #nav-buttons > Button { min-width: 10; }
    WizardScreen #nav-spacer { width: 1fr; }
    WizardScreen #nav-status { width: 1fr; height: auto; max-height: 2; padding: 0 1; }
    WizardScreen #nav-status.-blocked { color: $text-warning; }
    WizardScreen #nav-status.-ready { color: $text-success; }
    WizardScreen #nav-status.-busy { color: $text-accent; }
    """

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.steps = [cls(session) for cls in STEP_CLASSES]
        self.busy = False
        self._wizard_mounted = False
        self._steps_mounted = False
        self._steps_ready = asyncio.Event()
        self._loading_words = "Loading the saved setup…"
        #: The step on screen: None while a resumed setup loads (then `current`, the saved
        #: step, is not shown yet).
        self.shown_step: int | None = None

    @property
    def current(self) -> int:
        return self.session.state.step

    @property
    def step(self) -> Step:
        return self.steps[self.current]

    @property
    def reachable(self) -> int:
        """The furthest step the user may open: up to the first one not done."""
        return min(self.session.state.first_open_step, len(self.steps) - 1)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="wizard-body"):
            yield StepList(STEP_TITLES, id="step-list")
            with Vertical(id="step-area"):
                # the steps mount after the first frame (see `on_mount`): composing all
                # seven costs more than the rest of the start-up together
                yield ContentSwitcher(id="steps")
                with Vertical(id="nav"):
                    # the status has a line of its own: between the buttons it had ~20
                    # columns at 80x24 and its sentences were cut
                    yield Static("", id="nav-status")
                    with Horizontal(id="nav-buttons"):
                        yield Button("◀ Back", id="back", compact=True)
                        yield Static("", id="nav-spacer")
                        yield Button("Next ▶", id="next", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._wizard_mounted = True
        if self.session.loaded:  # a fresh setup: nothing to load but the steps themselves
            self._loading_words = "Preparing the steps…"
        self.show_loading(self._loading_words)
        if self.session.loaded:
            # a moment after the first frame is out (Textual paints at most 60 times a
            # second; a callback "after refresh" can run before the paint reaches the
            # terminal), so the seven steps never hold back the first screen
            self.set_timer(FIRST_FRAME_GRACE, self.session_loaded)

    # ------------------------------------------------------------------ resuming
    @property
    def loading(self) -> bool:
        """The app is still reading config.yml/keyring, restarting the sandbox, or mounting
        the steps (always after the first frame)."""
        return not self.session.loaded or self.shown_step is None

    def show_loading(self, words: str) -> None:
        """The first frame of a resumed setup: the step list, and what is being loaded."""
        self._loading_words = words
        if not self._wizard_mounted or not self.loading:
            return  # on_mount shows it
        self.sub_title = "New setup" if self.session.loaded else "Resuming the setup"
        self.query_one(StepList).show_progress(
            self.current, set(self.session.state.completed), self.reachable
        )
        status = self.query_one("#nav-status", Static)
        status.remove_class("-blocked", "-ready")
        status.add_class("-busy")
        status.update(escape(words))
        self.query_one("#next", Button).disabled = True
        self.query_one("#back", Button).disabled = True

    async def session_loaded(self) -> None:
        """The session is whole: show the steps (built from it) at the saved step."""
        if not self._wizard_mounted or not self.is_attached:
            return  # on_mount mounts the steps; or the app is closing
        if not self._steps_mounted:
            self._steps_mounted = True
            for step in self.steps:
                step.display = False  # as ContentSwitcher hides the children it starts with
            await self.query_one("#steps", ContentSwitcher).mount_all(self.steps)
            self._steps_ready.set()
            if self.app._exit:  # closed while the steps were mounting: open none
                return
        else:
            # both the first-frame timer and the app's loading worker call this: the later
            # call must not open a step whose widgets are still being mounted
            await self._steps_ready.wait()
            if self.shown_step is not None:
                return
        self.go_to(min(self.session.state.step, self.reachable))

    # ------------------------------------------------------------------ moving
    def go_to(self, index: int) -> None:
        index = max(0, min(index, len(self.steps) - 1))
        state = self.session.state
        state.step = index
        self.session.save()
        self.query_one("#steps", ContentSwitcher).current = self.steps[index].id
        self.sub_title = f"Step {index + 1} of {len(self.steps)}: {STEP_TITLES[index]}"
        self.steps[index].on_enter()
        self.shown_step = index
        self.refresh_nav()
        self.call_after_refresh(self._focus_step)

    def _focus_step(self) -> None:
        focused = self.app.focused
        if focused is not None and self.step in focused.ancestors:
            return  # the user (or a burst of keys) got into the step first: keep their field
        focusable = [w for w in self.step.query("*") if w.focusable]
        if focusable:
            # a step opens at its top (title and help in view); its first field sits just
            # below them. Scrolling to the field could run before the step's layout is
            # final (right after the steps mount) and hide the title.
            focusable[0].focus(scroll_visible=False)

    def refresh_nav(self) -> None:
        if self.loading:
            return
        state = self.session.state
        done = set(state.completed)
        self.query_one(StepList).show_progress(self.current, done, self.reachable)
        status = self.query_one("#nav-status", Static)
        next_button = self.query_one("#next", Button)
        back_button = self.query_one("#back", Button)
        back_button.disabled = self.busy or self.current == 0
        last = self.current == len(self.steps) - 1
        next_button.display = not last
        status.remove_class("-blocked", "-ready", "-busy")
        if self.busy:
            next_button.disabled = True
            status.update("Working… (the screen stays usable)")
            status.add_class("-busy")
            return
        blocker = self.step.blocker()
        next_button.disabled = blocker is not None
        label = f"{self.step.NEXT_LABEL} ▶"
        if str(next_button.label) != label:
            next_button.label = label
            next_button.refresh(layout=True)  # Button's label is not a layout reactive: re-fit
        if blocker:
            status.update(f"To continue: {escape(blocker)}")
            status.add_class("-blocked")
        elif last:
            status.update("Ready: start the sync, or hand it to the service.")
            status.add_class("-ready")
        else:
            status.update("Ready: Next (ctrl+n) saves this step and moves on.")
            status.add_class("-ready")

    def action_next(self) -> None:
        if self.loading or self.busy or self.current >= len(self.steps) - 1:
            return
        blocker = self.step.blocker()
        if blocker:
            self.notify(blocker, title="Not yet", severity="warning")
            return
        self._commit()

    @work(exclusive=True, group="wizard-commit")
    async def _commit(self) -> None:
        index = self.current
        self.busy = True
        self.refresh_nav()
        try:
            ok = await self.steps[index].commit()
        except Exception as exc:  # a step must report its own errors; this is the backstop
            self.notify(f"{type(exc).__name__}: {exc}", title="Step failed", severity="error")
            ok = False
        finally:
            self.busy = False
        if ok:
            self.session.state.mark_done(index)
            self.go_to(index + 1)
        else:
            self.refresh_nav()

    def action_back(self) -> None:
        if not self.loading and not self.busy and self.current > 0:
            self.go_to(self.current - 1)

    def action_focus_steps(self) -> None:
        self.query_one(StepList).focus()

    def jump(self, index: int) -> None:
        if self.loading or self.busy:
            return
        if index > self.reachable:
            self.notify(
                f"Finish step {self.reachable + 1} ({STEP_TITLES[self.reachable]}) first.",
                severity="warning",
            )
            self.refresh_nav()
            return
        self.go_to(index)

    @on(StepList.Jump)
    def _jump(self, event: StepList.Jump) -> None:
        self.jump(event.step)

    @on(Button.Pressed, "#next")
    def _next_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_next()

    @on(Button.Pressed, "#back")
    def _back_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_back()

    @on(Step.Changed)
    def _step_changed(self, event: Step.Changed) -> None:
        event.stop()
        self.refresh_nav()

    # ------------------------------------------------------------------ palette
    def palette_commands(self) -> list[PaletteCommand]:
        commands = [
            PaletteCommand(
                f"Go to step {i + 1}: {title}", "Open this step of the wizard", _go(self, i)
            )
            for i, title in enumerate(STEP_TITLES)
            if i <= self.reachable
        ]
        commands.append(PaletteCommand("Next step", "Save this step and move on", self.action_next))
        commands.append(PaletteCommand("Previous step", "Go back one step", self.action_back))
        commands.extend(self.step.palette_commands())
        return commands


def _go(screen: WizardScreen, index: int):
    return lambda: screen.jump(index)
