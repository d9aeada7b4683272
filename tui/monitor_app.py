"""The app behind `sluice monitor`: the cluster's connectors, live and read-only."""

from __future__ import annotations

import os
from typing import Any

from textual import events
from textual.app import App
from textual.binding import Binding

from sluice.tui.app import HIDE_KEYS, KeysPanelEscape, freeze_cursor
from sluice.tui.commands import ScreenCommands
from sluice.tui.crash import CrashReportingApp
from sluice.tui.keys_in_order import FOCUS_KEYS
from sluice.tui.screens.monitor import REFRESH_SECONDS, MonitorScreen
from sluice.tui.theme import DEFAULT_THEME, THEMES, other_theme


class MonitorApp(KeysPanelEscape, CrashReportingApp):
    """Watch every connector of one cluster; never writes to it."""

    TITLE = "Sluice"
    RESTART_COMMAND = "sluice monitor"
    #: The same app-level sheet as SluiceApp; widgets and screens bring their own CSS.
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    #: Responsive classes on every screen: each widget's and screen's own CSS tightens its
    #: layout below 100 columns (80x24 must work) and hides extras below 30 rows.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS = [
        # `q` quits too (and shows in the footer): ^q stays out of the 80-column footer
        Binding("ctrl+q", "quit", "Quit", priority=True, show=False),
        Binding("ctrl+t", "toggle_theme", "Light/dark"),
        HIDE_KEYS,
        *FOCUS_KEYS,
    ]

    def __init__(
        self,
        es_settings: dict[str, Any],
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        test_mode: bool = False,
        config_path: str | None = None,
    ) -> None:
        super().__init__()
        self.es_settings = es_settings
        #: config.yml the explainer judges the service by (`w`: why is it stuck?)
        self.config_path = config_path
        self.refresh_seconds = refresh_seconds
        self.test_mode = test_mode or bool(os.environ.get("SLUICE_TUI_TEST_MODE"))

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        self.push_screen(MonitorScreen(self.es_settings, refresh_seconds=self.refresh_seconds))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        freeze_cursor(self, event.widget)

    def action_toggle_theme(self) -> None:
        self.theme = other_theme(self.theme)
