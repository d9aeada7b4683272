"""A mark on log records whose words also reach the user another way.

The engine logs each notice (a missing ingest pipeline, unread folders, the deletion guard)
for the headless service, whose log is all anyone reads. The same words are in the sync's
result, which the CLI prints as its summary: the CLI's log handler leaves marked records out
unless asked for more (`-v`), so nothing is said twice.
"""

from __future__ import annotations

import logging
from typing import Final

_ATTRIBUTE: Final = "sluice_reported"
#: `log.warning(..., extra=REPORTED)`: these words are in the result the caller gets, too.
REPORTED: Final = {_ATTRIBUTE: True}


def is_reported(record: logging.LogRecord) -> bool:
    """Whether the record carries the `REPORTED` mark."""
    return bool(getattr(record, _ATTRIBUTE, False))
