"""The Sluice Textual app: the setup wizard, then the live sync dashboard.

`SluiceApp(config_path, start_over)` is what `sluice` opens. It holds no business logic:
screens call `tui.services`, which calls core/ and sources/.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterable

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tui.commands import ScreenCommands
from tui.screens.wizard import WizardScreen
from tui.session import Session
from tui.theme import DEFAULT_THEME, THEMES, other_theme

#: Signals that end a session the way a logout or `kill` does; a running sync is suspended
#: (resumable) rather than left `in_progress`.
STOP_SIGNALS = tuple(
    sig for sig in (getattr(signal, "SIGHUP", None), signal.SIGTERM) if sig is not None
)


def freeze_cursor(app: App, widget: object) -> None:
    """In test mode, stop a focused widget's cursor blinking: snapshots and screenshots must
    not depend on when they are taken."""
    if getattr(app, "test_mode", False) and getattr(widget, "cursor_blink", False):
        widget.cursor_blink = False  # type: ignore[attr-defined]


class SluiceApp(App[int]):
    """Guided setup of one connector, then its sync dashboard."""

    TITLE = "Sluice"
    SUB_TITLE = "Elastic connectors, set up and watched"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    #: Responsive classes on every screen: app.tcss tightens the layout below 100 columns
    #: (80x24 must work) and hides extras below 30 rows.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+t", "toggle_theme", "Light/dark"),
    ]

    def __init__(
        self, config_path: str = "config.yml", start_over: bool = False, *, test_mode: bool = False
    ) -> None:
        super().__init__()
        self.config_path = config_path
        self.start_over = start_over
        #: Stable rendering for tests and screenshots: no blinking cursors.
        self.test_mode = test_mode or bool(os.environ.get("SLUICE_TUI_TEST_MODE"))
        self.session = Session.open(config_path, start_over=start_over)
        self._stop_hooks: list[Callable[[], None]] = []
        self._installed_signals: list[int] = []

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        self._install_signal_handlers()
        self.push_screen(WizardScreen(self.session))

    def on_unmount(self) -> None:
        self._remove_signal_handlers()
        self.session.stop_sandbox()

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

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        loop = self._loop
        if loop is None:
            return
        for sig in STOP_SIGNALS:
            try:
                loop.add_signal_handler(sig, self._on_stop_signal, sig)
            except (NotImplementedError, RuntimeError, ValueError):
                continue
            self._installed_signals.append(sig)

    def _remove_signal_handlers(self) -> None:
        loop = self._loop
        for sig in self._installed_signals:
            if loop is not None:
                try:
                    loop.remove_signal_handler(sig)
                except (RuntimeError, ValueError):
                    pass
        self._installed_signals.clear()

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
