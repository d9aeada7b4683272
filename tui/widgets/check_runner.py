"""Runs the cluster checks for a form: debounce, generations, one worker at a time.

A result belongs to the answers it was computed for. `forget()` (an edit) drops whatever is
running and restarts the pause; `run_now()` (the step asked) starts at once. Results reach
the parent as typed messages, only those of the current run: `Started(planned)`,
`Result(view)`, `Done()`. The runner draws nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from textual import on, work
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

from sluice.tui.widgets.check_list import CheckView

DEBOUNCE_SECONDS = 0.6


def planned_checks(*args: Any, **kwargs: Any) -> Any:
    """core's plan of checks (its runner, and the Elasticsearch client, load on first use)."""
    from sluice.core.checks.runner import planned_checks as planned

    return planned(*args, **kwargs)


def run_checks(*args: Any, **kwargs: Any) -> Any:
    """core's live checks, loaded on first use like `planned_checks`."""
    from sluice.core.checks.runner import run_checks as run

    return run(*args, **kwargs)


class CheckRunner(Widget):
    """Invisible; `settings()` gives the answers to check, `skip` the check ids left out."""

    DEFAULT_CSS = "CheckRunner { display: none; }"

    class Started(Message):
        def __init__(self, settings: Mapping[str, Any], planned: list[tuple[str, str]]) -> None:
            self.settings, self.planned = settings, planned
            super().__init__()

    class Result(Message):
        def __init__(self, view: CheckView) -> None:
            self.view = view
            super().__init__()

    class Done(Message):
        """Every check of the current run has reported."""

    class _Tagged(Message):
        def __init__(self, generation: int, view: CheckView | None) -> None:
            self.generation, self.view = generation, view
            super().__init__()

    def __init__(
        self,
        settings: Callable[[], Mapping[str, Any]],
        *,
        shown: Callable[[CheckView], CheckView] = lambda view: view,
        skip: Collection[str] = (),
        debounce: float = DEBOUNCE_SECONDS,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._settings = settings
        self._shown = shown
        self._skip = frozenset(skip)
        self._debounce_seconds = debounce
        self._timer: Timer | None = None
        self._generation = 0
        self.running = False

    def forget(self, *, restart: bool = True) -> None:
        """The answers changed: drop the run in flight (its results arrive stale and are
        ignored) and, with `restart`, check again when typing pauses."""
        self._stop_timer()
        self._generation += 1
        self.workers.cancel_group(self, "checks")
        self.running = False
        if restart:
            generation = self._generation
            self._timer = self.set_timer(self._debounce_seconds, lambda: self._due(generation))

    def run_now(self) -> None:
        """Check the current answers at once (the step asked, or the pause is over)."""
        self._stop_timer()
        self._generation += 1
        self.workers.cancel_group(self, "checks")
        settings = self._settings()
        planned = [
            (check_id, title)
            for check_id, title in planned_checks(settings)
            if check_id not in self._skip
        ]
        self.running = bool(settings.get("host"))
        self.post_message(self.Started(settings, planned if self.running else []))
        if self.running:
            self._checks(self._generation, dict(settings))

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _due(self, generation: int) -> None:
        """The pause is over; a timer event queued before a newer edit starts nothing."""
        if generation == self._generation:
            self.run_now()

    @work(exclusive=True, group="checks")
    async def _checks(self, generation: int, settings: dict[str, Any]) -> None:
        async for result in run_checks(settings):
            if result.id not in self._skip:
                view = self._shown(CheckView.from_result(result))
                self.post_message(self._Tagged(generation, view))
        self.post_message(self._Tagged(generation, None))

    @on(_Tagged)
    def _tagged(self, message: _Tagged) -> None:
        message.stop()
        if message.generation != self._generation:
            return  # computed for answers that have changed since
        if message.view is None:
            self.running = False
            self.post_message(self.Done())
        else:
            self.post_message(self.Result(message.view))
