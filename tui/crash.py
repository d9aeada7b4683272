"""The last line of defence: an unexpected exception ends the app with a readable message.

Textual's default prints a traceback *with local variables* (passwords, API keys) on the
terminal. `CrashReportingApp` replaces that: the traceback goes to a redacted crash report
file (`core.crash`) and the terminal gets what happened, where the report is, and that the
saved progress is kept.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App
from textual.css.query import NoMatches
from textual.worker import WorkerFailed

from sluice.core.crash import one_line, write_crash_report


def crash_message(error: BaseException, report: object, again: str) -> Text:
    """What the user reads after the app stopped on `error`."""
    text = Text()
    text.append("Sluice stopped on an unexpected error\n", style="bold red")
    text.append(f"  {one_line(error)}\n")
    if report is not None:
        text.append(f"  A crash report (secrets removed) is in {report}\n")
    text.append(f"  Your progress is saved: run `{again}` to continue.\n")
    return text


class CrashReportingApp(App[int]):
    """An App whose unhandled exceptions become a crash report and one readable message."""

    #: The command that starts this app again, for the message.
    RESTART_COMMAND = "sluice"

    def _handle_exception(self, error: Exception) -> None:
        cause = error.error if isinstance(error, WorkerFailed) else error
        if isinstance(cause, NoMatches) and (self._exit or self._exception is not None):
            # the app is closing (as asked, or after a crash already reported): a widget
            # still starting up (the wizard mounts its steps after the first frame) found
            # its children already torn down
            return
        self._return_code = 1
        if self._exception is None:  # Pilot re-raises it in tests, as Textual does
            self._exception = error
            self._exception_event.set()
        report = write_crash_report(error, context=f"TUI ({type(self).__name__})")
        self.bell()
        self.panic(crash_message(error, report, self.RESTART_COMMAND))
