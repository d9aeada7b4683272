"""The error budget that fails a sync which is going badly, like Elastic's service does."""

from __future__ import annotations

from collections import deque

from sluice.core.engine.settings import EngineSettings


class ErrorBudgetExceeded(Exception):
    """Raised when too many operations failed; the message says which limit and why."""


class ErrorBudget:
    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self.consecutive = 0
        self.total = 0
        self._window: deque[bool] = deque(maxlen=settings.error_window)
        self._window_errors = 0

    def _push(self, failed: bool) -> None:
        if len(self._window) == self._window.maxlen and self._window[0]:
            self._window_errors -= 1
        self._window.append(failed)
        self._window_errors += failed

    def success(self) -> None:
        self.consecutive = 0
        self._push(False)

    def failure(self, reason: str) -> None:
        """Count one failed operation; raise when a limit is crossed."""
        s = self.settings
        self.consecutive += 1
        self.total += 1
        self._push(True)
        if self.consecutive >= s.max_consecutive_errors:
            raise ErrorBudgetExceeded(
                f"{self.consecutive} documents failed in a row (last: {reason})"
            )
        if self.total >= s.max_total_errors:
            raise ErrorBudgetExceeded(f"{self.total} documents failed (last: {reason})")
        full = len(self._window) == self._window.maxlen
        if full and self._window_errors / len(self._window) > s.max_error_ratio:
            raise ErrorBudgetExceeded(
                f"{self._window_errors} of the last {len(self._window)} operations failed "
                f"(more than {s.max_error_ratio:.0%}; last: {reason})"
            )
