"""Text extraction from files (PDF, DOCX, XLSX, PPTX, HTML, plain text).

    text = await extract_text(path_or_bytes, filename="report.pdf")

Parsing runs in worker processes with size and time limits, so a corrupt or hostile file
costs one document (an `ExtractionError`), never the event loop or the sync. Call
`shutdown()` when the program stops (also registered with `atexit`).

Workers start from a fork server, so, as with any multiprocessing code, a program run as a
script must guard its entry point with `if __name__ == "__main__":` (console scripts and
`python -m` modules already do).
"""

from __future__ import annotations

from sluice.core.extraction.api import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT,
    extract_small_text,
    extract_text,
)
from sluice.core.extraction.errors import (
    ExtractionError,
    ExtractionTimeoutError,
    FileTooLargeError,
    UnsupportedFormatError,
)
from sluice.core.extraction.formats import SUPPORTED_EXTENSIONS, supported_extension
from sluice.core.extraction.pool import configure, shutdown, worker_count

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "SUPPORTED_EXTENSIONS",
    "ExtractionError",
    "ExtractionTimeoutError",
    "FileTooLargeError",
    "UnsupportedFormatError",
    "configure",
    "extract_small_text",
    "extract_text",
    "shutdown",
    "supported_extension",
    "worker_count",
]
