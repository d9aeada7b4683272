"""The Sluice Textual app: the setup wizard, then the live sync dashboard.

`SluiceApp(config_path, start_over)` is what `sluice` opens. It holds no business logic:
screens call core/ and sources/ directly.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from sluice.tui.commands import ScreenCommands
from sluice.tui.crash import CrashReportingApp
from sluice.tui.keys_in_order import FOCUS_KEYS, KeysInOrder
from sluice.tui.screens.wizard import WizardScreen
from sluice.tui.session import Session
from sluice.tui.shutdown import Shutdown
from sluice.tui.theme import DEFAULT_THEME, THEMES, other_theme


def freeze_cursor(app: App, widget: object) -> None:
    """In test mode, stop a focused widget's cursor blinking: snapshots and screenshots must
    not depend on when they are taken."""
    if getattr(app, "test_mode", False) and getattr(widget, "cursor_blink", False):
        widget.cursor_blink = False  # type: ignore[attr-defined]


#: Escape closes the Keys panel (Textual's help panel, from the palette's "Keys"). A priority
#: binding, but `check_action` lets Escape through to the screen while no panel is shown.
HIDE_KEYS = Binding("escape", "hide_keys", "Hide keys", show=False, priority=True)


class KeysPanelEscape(KeysInOrder):
    """Mixin for Sluice's apps: Escape hides the Keys panel when it is open."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "hide_keys":
            return bool(self.screen.query("HelpPanel"))
        return super().check_action(action, parameters)

    def action_hide_keys(self) -> None:
        self.action_hide_help_panel()


class SluiceApp(KeysPanelEscape, CrashReportingApp):
    """Guided setup of one connector, then its sync dashboard."""

    TITLE = "Sluice"
    SUB_TITLE = "Elastic connectors, set up and watched"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    #: Responsive classes on every screen: each widget's and screen's own CSS tightens its
    #: layout below 100 columns (80x24 must work) and hides extras below 30 rows.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+t", "toggle_theme", "Light/dark"),
        HIDE_KEYS,
        *FOCUS_KEYS,
    ]

    def __init__(
        self, config_path: str = "config.yml", start_over: bool = False, *, test_mode: bool = False
    ) -> None:
        super().__init__()
        self.config_path = config_path
        self.start_over = start_over
        #: Stable rendering for tests and screenshots: no blinking cursors.
        self.test_mode = test_mode or bool(os.environ.get("SLUICE_TUI_TEST_MODE"))
        #: The saved answers only; config.yml, keyring and sandbox load after the first frame.
        self.session = Session.open(config_path, start_over=start_over)
        self._leaving = False
        self._stop_hooks: list[Callable[[], None]] = []
        #: SIGHUP/SIGTERM: a closed terminal must end the process, its sync suspended.
        self.shutdown = Shutdown(self._on_stop_signal_threadsafe, hard_exit=not self.test_mode)

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        self._install_signal_handlers()
        self.shutdown.track(self.session.release_sandbox, lambda: self.session.sandbox is None)
        self.push_screen(WizardScreen(self.session))
        if not self.session.loaded:
            self._load_session()

    def on_unmount(self) -> None:
        self._leaving = True
        self._remove_signal_handlers()
        self.session.release_sandbox()

    @work(thread=True, exclusive=True, group="session")
    def _load_session(self) -> None:
        """The slow part of resuming (config.yml, keyring, sandbox), after the first frame;
        the wizard shows each phase and its steps once the session is whole."""
        self.session.load(progress=lambda words: self._from_thread(self._loading, words))
        if self._leaving:  # the user left while the sandbox was starting: don't leave it up
            self.session.release_sandbox()
            return
        self._from_thread(self._session_loaded)

    def _from_thread(self, callback: Callable[..., None], *args: object) -> None:
        """`call_from_thread`, quiet when the app has stopped meanwhile."""
        with contextlib.suppress(RuntimeError):
            self.call_from_thread(callback, *args)

    def _loading(self, words: str) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, WizardScreen):
                screen.show_loading(words)

    async def _session_loaded(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, WizardScreen):
                await screen.session_loaded()

    # ------------------------------------------------------------------ look
    def action_toggle_theme(self) -> None:
        self.theme = other_theme(self.theme)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Toggle light/dark theme",
            "Switch between Sluice's light and dark themes",
            self.action_toggle_theme,
        )

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        freeze_cursor(self, event.widget)

    # ------------------------------------------------------------------ signals
    def add_stop_hook(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Run `hook` on SIGHUP/SIGTERM (a running sync suspends itself). Returns a remover."""
        self._stop_hooks.append(hook)
        return lambda: self._stop_hooks.remove(hook) if hook in self._stop_hooks else None

    @property
    def _installed_signals(self) -> list[int]:
        return self.shutdown.installed

    def _install_signal_handlers(self) -> None:
        self.shutdown.install()

    def _remove_signal_handlers(self) -> None:
        self.shutdown.uninstall()

    def _on_stop_signal_threadsafe(self, sig: int) -> None:
        """From a signal handler: run `_on_stop_signal` on the app's event loop."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._on_stop_signal, sig)

    def _on_stop_signal(self, sig: int) -> None:
        """Suspend what runs, then leave once the hooks say they are done."""
        hooks = list(self._stop_hooks)
        for hook in hooks:
            try:
                hook()
            except Exception:
                pass
        if not hooks:
            self.exit(return_code=128 + sig)
