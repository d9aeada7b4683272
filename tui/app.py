"""The Sluice Textual app: the setup wizard and the live sync dashboard."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Label, ListItem, ListView, Static

STEPS = (
    "Prerequisites",
    "Elasticsearch",
    "Create connector",
    "config.yml",
    "Source details",
    "Index",
    "Review & sync",
)


class SluiceApp(App[int]):
    """Guided setup of one connector, then its sync dashboard."""

    TITLE = "Sluice"
    SUB_TITLE = "Elastic connectors, set up and watched"
    CSS_PATH = "app.tcss"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, config_path: str = "config.yml", start_over: bool = False) -> None:
        super().__init__()
        self.config_path = config_path
        self.start_over = start_over

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield ListView(
                *(ListItem(Label(f"{i}. {s}")) for i, s in enumerate(STEPS, 1)), id="steps"
            )
            with Vertical(id="step-body"):
                yield Static("Prerequisites", id="step-title")
                yield Static("Choose the data source you want to sync.", id="step-help")
        yield Footer()
