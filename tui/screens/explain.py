""" "Why is it stuck?": core's explainer for a connector or job, shown in a modal.

Opened with `w` from the monitor (the highlighted connector), its job history (the
highlighted job) and the sync dashboard (the job it watches). Reads only, like `sluice
explain`, whose findings it shows in the same order: most likely first, each with its fix.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from sluice.core.workflows.cluster import Cluster
from sluice.core.workflows.explain import Explanation, UnknownTarget, explain
from sluice.sources.registry import types_run_by
from sluice.tui.widgets.badges import escape

LIKELIHOOD_STYLE = {"certain": "$text-error", "likely": "$text-warning", "possible": "", "info": ""}


class Explained(Message):
    def __init__(self, result: Explanation | None, error: str = "") -> None:
        self.result = result
        self.error = error
        super().__init__()


class ExplainScreen(ModalScreen[None]):
    """What keeps one connector or job from progressing, and what to do."""

    BINDINGS: ClassVar = [
        Binding("escape,q", "close", "Close"),
        Binding("r", "again", "Again"),
    ]
    DEFAULT_CSS = """
    ExplainScreen { align: center middle; }
    ExplainScreen > Vertical {
        width: 90%; max-width: 110; height: 85%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ExplainScreen.-narrow > Vertical { width: 100%; height: 100%; }
    ExplainScreen #explain-title { text-style: bold; height: auto; }
    ExplainScreen #explain-summary { height: auto; margin-bottom: 1; }
    ExplainScreen #explain-findings { height: 1fr; }
    ExplainScreen .finding { height: auto; margin-bottom: 1; }
    ExplainScreen #explain-keys { height: 1; color: $text-muted; }
    """

    def __init__(
        self, settings: dict[str, Any], target_id: str, *, config_path: str | Path | None = None
    ) -> None:
        super().__init__()
        self.settings = settings
        self.target_id = target_id
        self.config_path = Path(config_path) if config_path else None
        self.result: Explanation | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Why is {self.target_id} stuck?", id="explain-title", markup=False)
            yield Static("Reading the records and the cluster…", id="explain-summary")
            yield VerticalScroll(id="explain-findings")
            yield Static("r reads again · Escape closes", id="explain-keys")

    def on_mount(self) -> None:
        self.action_again()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_again(self) -> None:
        self.query_one("#explain-summary", Static).update("Reading the records and the cluster…")
        self._read()

    @work(exclusive=True, group="explain")
    async def _read(self) -> None:
        config = self.config_path if self.config_path and self.config_path.exists() else None
        try:
            async with Cluster(self.settings, read_only=True, user_agent="sluice-tui") as cluster:
                result = await explain(
                    await cluster.store(),
                    self.target_id,
                    config_path=config,
                    environ=dict(os.environ),
                    runnable_types={
                        "sluice": types_run_by("sluice"),
                        "elastic": types_run_by("elastic"),
                    },
                )
        except UnknownTarget as exc:
            self.post_message(Explained(None, f"{exc} — {exc.hint}"))
            return
        except Exception as exc:  # the cluster is unreachable, a record is unreadable
            self.post_message(Explained(None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(Explained(result))

    def on_explained(self, message: Explained) -> None:
        summary = self.query_one("#explain-summary", Static)
        findings = self.query_one("#explain-findings", VerticalScroll)
        findings.remove_children()
        if message.result is None:
            summary.update(f"[b $text-error]✖ Cannot explain:[/] {escape(message.error)}")
            return
        self.result = result = message.result
        mark = "[b $text-success]✔[/] " if result.healthy else "[b $text-warning]⚠[/] "
        summary.update(mark + escape(result.summary))
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
