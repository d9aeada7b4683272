"""The wizard's "Preview": a dry run of the connector's sync, shown in a modal.

Core's `dry_run` reads a sample of the source (or, on `a`, all of it) through the engine in
preview mode: nothing is written and no job is recorded. The report is the same text
`sluice sync ID --dry-run` prints.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from sluice.core.config import Config, ConfigError, load_config
from sluice.core.engine.settings import EngineSettings
from sluice.core.workflows.dry_run import DEFAULT_LIMIT, DryRunReport, dry_run, report_lines
from sluice.sources.registry import create_source
from sluice.tui.widgets.badges import escape


class Previewed(Message):
    def __init__(self, report: DryRunReport | None, error: str = "") -> None:
        self.report = report
        self.error = error
        super().__init__()


class PreviewScreen(ModalScreen[None]):
    """What a sync of one connector would do, before it writes anything."""

    BINDINGS: ClassVar = [
        Binding("escape,q", "close", "Close"),
        Binding("a", "read_all", "Read all"),
    ]
    DEFAULT_CSS = """
    PreviewScreen { align: center middle; }
    PreviewScreen > Vertical {
        width: 95%; max-width: 120; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    PreviewScreen.-narrow > Vertical { width: 100%; height: 100%; }
    PreviewScreen #preview-title { text-style: bold; height: auto; }
    PreviewScreen #preview-body { height: 1fr; }
    PreviewScreen #preview-report { height: auto; }
    PreviewScreen #preview-keys { height: 1; color: $text-muted; }
    """

    def __init__(
        self,
        settings: dict[str, Any],
        connector_id: str,
        *,
        config_path: str | Path | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.connector_id = connector_id
        self.config_path = config_path
        self.limit = limit
        self.report: DryRunReport | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Preview — nothing is written", id="preview-title")
            with VerticalScroll(id="preview-body"):
                yield Static(self._reading_words(), id="preview-report")
            yield Static(
                "a reads the whole source (counts deletions too) · Escape closes",
                id="preview-keys",
            )

    def on_mount(self) -> None:
        self._run()

    def _reading_words(self) -> str:
        scope = "the whole source" if self.limit is None else f"up to {self.limit:,} items"
        return f"Reading {scope}…"

    def action_close(self) -> None:
        self.dismiss(None)

    def action_read_all(self) -> None:
        if self.limit is None:
            return
        self.limit = None
        self.report = None
        self.query_one("#preview-report", Static).update(self._reading_words())
        self._run()

    def _config(self) -> Config | None:
        path = Path(self.config_path) if self.config_path else None
        if path is None or not path.exists():
            return None
        try:
            return load_config(path, resolve_secrets=False)
        except ConfigError:
            return None  # the wizard's checks report it; the preview uses the defaults

    @work(exclusive=True, group="preview")
    async def _run(self) -> None:
        config = self._config()
        extra = config.custom_sources if config is not None else {}
        try:
            report = await dry_run(
                self.settings,
                self.connector_id,
                source_factory=functools.partial(create_source, extra=extra),
                limit=self.limit,
                settings=EngineSettings.from_config(config),
            )
        except Exception as exc:  # an unknown connector, an unreachable cluster
            self.post_message(Previewed(None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(Previewed(report))

    def on_previewed(self, message: Previewed) -> None:
        shown = self.query_one("#preview-report", Static)
        if message.report is None:
            shown.update(f"[b $text-error]✖ Cannot preview:[/] {escape(message.error)}")
            return
        self.report = message.report
        shown.update(escape("\n".join(report_lines(message.report))))
