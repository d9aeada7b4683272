"""The error monitor that fails a sync which is going badly, as Elastic's service does.

Same semantics as Elastic's `ErrorMonitor` (connectors/utils.py), keyed by config.yml's
`elasticsearch.bulk.error_monitor`: a limit trips when it is *exceeded* (more than
`max_consecutive_errors` in a row, more than `max_total_errors` in all, or more than
`max_error_rate` of the last `error_window_size` operations, the window counting operations
not yet seen as successes); with `enabled: false` errors are only counted.
"""

from __future__ import annotations

from sluice.core.engine.settings import EngineSettings

_KEY = "elasticsearch.bulk.error_monitor"
_FIX = (
    "fix what the failure log shows (`sluice job failures`), or raise the limit or set "
    f"{_KEY}.enabled: false in config.yml"
)


class ErrorBudgetExceeded(Exception):
    """Raised when too many operations failed; the message names the limit and the fix."""


class ErrorBudget:
    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self.consecutive = 0
        self.total = 0
        self._size = max(0, settings.error_window)
        self._window = [False] * self._size
        self._next = 0
        self._window_errors = 0

    def _push(self, failed: bool) -> None:
        if not self._size:
            return
        self._window_errors += failed - self._window[self._next]
        self._window[self._next] = failed
        self._next = (self._next + 1) % self._size

    def success(self) -> None:
        self.consecutive = 0
        self._push(False)

    def failure(self, reason: str) -> None:
        """Count one failed operation; raise when a limit is exceeded."""
        s = self.settings
        self.consecutive += 1
        self.total += 1
        self._push(True)
        if not s.error_monitor_enabled:
            return
        if self.consecutive > s.max_consecutive_errors:
            self._trip(
                f"{self.consecutive} documents failed in a row",
                "max_consecutive_errors",
                s.max_consecutive_errors,
                reason,
            )
        if self.total > s.max_total_errors:
            self._trip(
                f"{self.total} documents failed", "max_total_errors", s.max_total_errors, reason
            )
        if self._size and self._window_errors / self._size > s.max_error_ratio:
            self._trip(
                f"{self._window_errors} of the last {self._size} operations failed",
                "max_error_rate",
                s.max_error_ratio,
                reason,
            )

    @staticmethod
    def _trip(what: str, key: str, limit: float, reason: str) -> None:
        raise ErrorBudgetExceeded(f"{what}, over {_KEY}.{key} ({limit}) (last: {reason}) — {_FIX}")
