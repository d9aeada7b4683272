""" "Why is it stuck?": core's explainer for a connector or job, shown in a modal.

Opened with `w` from the monitor (the highlighted connector), its job history (the
highlighted job) and the sync dashboard (the job it watches). Reads only, like `sluice
explain`, whose findings it shows in the same order: most likely first, each with its fix.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from sluice.core.workflows.cluster import Cluster
from sluice.core.workflows.explain import Explanation, UnknownTarget, explain
from sluice.sources.registry import types_run_by
from sluice.tui.screens.reading_modal import ReadingModal
from sluice.tui.widgets.badges import escape

LIKELIHOOD_STYLE = {"certain": "$text-error", "likely": "$text-warning", "possible": "", "info": ""}


class ExplainScreen(ReadingModal[Explanation]):
    """What keeps one connector or job from progressing, and what to do."""

    BINDINGS: ClassVar = [Binding("r", "again", "Again")]
    DEFAULT_CSS = """
    ExplainScreen #explain-summary { height: auto; margin-bottom: 1; }
    ExplainScreen #explain-findings { height: 1fr; }
    ExplainScreen .finding { height: auto; margin-bottom: 1; }
    """
    ID_PREFIX = "explain"
    KEYS = "r reads again · Escape closes"
    FAILED = "Cannot explain"

    def __init__(
        self, settings: dict[str, Any], target_id: str, *, config_path: str | Path | None = None
    ) -> None:
        super().__init__()
        self.settings = settings
        self.target_id = target_id
        self.config_path = Path(config_path) if config_path else None

    def heading(self) -> str:
        return f"Why is {self.target_id} stuck?"

    def compose_body(self) -> ComposeResult:
        yield Static("", id="explain-summary")
        yield VerticalScroll(id="explain-findings")

    def action_again(self) -> None:
        self.read_again()

    def reading(self) -> None:
        self.query_one("#explain-summary", Static).update("Reading the records and the cluster…")

    async def read(self) -> Explanation:
        config = self.config_path if self.config_path and self.config_path.exists() else None
        async with Cluster(self.settings, read_only=True, user_agent="sluice-tui") as cluster:
            return await explain(
                await cluster.store(),
                self.target_id,
                config_path=config,
                environ=dict(os.environ),
                runnable_types={
                    "sluice": types_run_by("sluice"),
                    "elastic": types_run_by("elastic"),
                },
            )

    def failure(self, exc: Exception) -> str:
        if isinstance(exc, UnknownTarget):
            return f"{exc} — {exc.hint}"
        return super().failure(exc)

    def show_error(self, markup: str) -> None:
        self.query_one("#explain-findings", VerticalScroll).remove_children()
        self.query_one("#explain-summary", Static).update(markup)

    def show(self, result: Explanation) -> None:
        findings = self.query_one("#explain-findings", VerticalScroll)
        findings.remove_children()
        mark = "[b $text-success]✔[/] " if result.healthy else "[b $text-warning]⚠[/] "
        self.query_one("#explain-summary", Static).update(mark + escape(result.summary))
        widgets = [
            Static(finding_markup(number, finding), classes="finding")
            for number, finding in enumerate(result.findings, 1)
        ]
        if widgets:
            findings.mount_all(widgets)


def finding_markup(number: int, finding: Any) -> str:
    """One finding: its title and likelihood, the evidence, and the fix."""
    style = LIKELIHOOD_STYLE.get(finding.likelihood, "")
    likelihood = f"[{style}]{finding.likelihood}[/]" if style else finding.likelihood
    text = f"[b]{number}. {escape(finding.title)}[/b] ({likelihood})\n{escape(finding.detail)}"
    if finding.fix:
        text += f"\n[b]Fix:[/b] {escape(finding.fix)}"
    return text
