"""Log records for a person at a terminal running one command (`sluice sync`, `check`...).

Python's fallback prints a warning as its bare words; libraries add their own chatter
(`elastic_transport`'s node-pool lines next to Sluice's own "retrying in 0.9 s"). Here a
command says `sluice: warning: ...`, as the CLI's other messages do; records the command also
reports in its output (`core.log_marks.REPORTED`) are left out; tracebacks never print.
`-v` adds Sluice's progress lines and the reported records, `-vv` everything, with tracebacks
(a library's line names its logger). Every line passes through `core.redact`.

`sluice run` replaces this with the service's own log format; the TUI's commands keep it
(the handler writes to the `sys.stderr` of the moment, which Textual captures while it runs).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import TextIO

from sluice.core.log_marks import is_reported
from sluice.core.redact import redact

#: The loggers of this program; others reach a user only from ERROR up (or with `-vv`).
OWN = "sluice"


def _is_own(record: logging.LogRecord) -> bool:
    return record.name == OWN or record.name.startswith(OWN + ".")


class CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler on whatever `sys.stderr` is when a record comes, like Python's own
    fallback: a TUI that captures stderr while it runs captures these too."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """StreamHandler sets its stream at creation; this one always reads sys.stderr."""


class CommandFormatter(logging.Formatter):
    """`sluice: warning: ...`; with `tracebacks`, the traceback under it."""

    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        level = record.levelname.lower()
        prefix = "sluice: " if level == "info" else f"sluice: {level}: "
        if not _is_own(record):  # a library's words, said as such
            prefix += f"[{record.name}] "
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            if self.tracebacks:
                text += "\n" + self.formatException(record.exc_info)
            elif str(exc) not in text:
                text += f" ({type(exc).__name__}: {exc})"
        # a secret inside an exception or a URL never reaches the screen (the prefix is ours)
        return prefix + redact(text)


class CommandFilter(logging.Filter):
    """Which records a command's user sees at a given verbosity."""

    def __init__(self, verbosity: int) -> None:
        super().__init__()
        self.verbosity = verbosity

    def filter(self, record: logging.LogRecord) -> bool:
        if self.verbosity >= 2:
            return True
        if not _is_own(record):
            return record.levelno >= logging.ERROR
        if is_reported(record):
            return self.verbosity >= 1
        return record.levelno >= (logging.INFO if self.verbosity >= 1 else logging.WARNING)


@contextlib.contextmanager
def command_logging(verbosity: int = 0) -> Iterator[None]:
    """Route log records to stderr while a command runs (see the module's docstring); the
    logging set-up before it is back afterwards (a command run in-process, as tests do)."""
    handler = CurrentStderrHandler()
    handler.setFormatter(CommandFormatter(tracebacks=verbosity >= 2))
    handler.addFilter(CommandFilter(verbosity))
    root, own = logging.getLogger(), logging.getLogger(OWN)
    levels = root.level, own.level
    if verbosity >= 2:
        root.setLevel(logging.DEBUG)
    if verbosity >= 1:
        own.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        own.setLevel(levels[1])
