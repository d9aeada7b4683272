"""The wizard's "Preview": a dry run of the connector's sync, shown in a modal.

Core's `dry_run` reads a sample of the source (or, on `a`, all of it) through the engine in
preview mode: nothing is written and no job is recorded. The report is the same text
`sluice sync ID --dry-run` prints.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from sluice.core.config import Config, ConfigError, load_config
from sluice.core.engine.settings import EngineSettings
from sluice.core.workflows.dry_run import DEFAULT_LIMIT, DryRunReport, dry_run, report_lines
from sluice.sources.registry import create_source
from sluice.tui.screens.reading_modal import ReadingModal
from sluice.tui.widgets.badges import escape


class PreviewScreen(ReadingModal[DryRunReport]):
    """What a sync of one connector would do, before it writes anything."""

    BINDINGS: ClassVar = [Binding("a", "read_all", "Read all")]
    DEFAULT_CSS = """
    PreviewScreen > Vertical { width: 95%; max-width: 120; height: 90%; }
    PreviewScreen.-narrow > Vertical { width: 100%; height: 100%; }
    PreviewScreen #preview-body { height: 1fr; }
    PreviewScreen #preview-report { height: auto; }
    """
    ID_PREFIX = "preview"
    KEYS = "a reads the whole source (counts deletions too) · Escape closes"
    FAILED = "Cannot preview"

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

    @property
    def report(self) -> DryRunReport | None:
        return self.result

    def heading(self) -> str:
        return "Preview — nothing is written"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="preview-body"):
            yield Static("", id="preview-report")

    def reading(self) -> None:
        scope = "the whole source" if self.limit is None else f"up to {self.limit:,} items"
        self.query_one("#preview-report", Static).update(f"Reading {scope}…")

    def action_read_all(self) -> None:
        if self.limit is None:
            return
        self.limit = None
        self.read_again()

    def _config(self) -> Config | None:
        path = Path(self.config_path) if self.config_path else None
        if path is None or not path.exists():
            return None
        try:
            return load_config(path, resolve_secrets=False)
        except ConfigError:
            return None  # the wizard's checks report it; the preview uses the defaults

    async def read(self) -> DryRunReport:
        config = self._config()
        extra = config.custom_sources if config is not None else {}
        return await dry_run(
            self.settings,
            self.connector_id,
            source_factory=functools.partial(create_source, extra=extra),
            limit=self.limit,
            settings=EngineSettings.from_config(config),
        )

    def show_error(self, markup: str) -> None:
        self.query_one("#preview-report", Static).update(markup)

    def show(self, result: DryRunReport) -> None:
        self.query_one("#preview-report", Static).update(escape("\n".join(report_lines(result))))
