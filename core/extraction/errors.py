"""Errors of content extraction: always about one document, never fatal to a sync."""

from __future__ import annotations


class ExtractionError(Exception):
    """The text of one file could not be extracted (corrupt, encrypted, too big, too slow...).

    `filename` names the file, `reason` says what went wrong in words a user can act on.
    Picklable, because worker processes raise it across the process boundary.
    """

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"{filename}: {reason}")
        self.filename = filename
        self.reason = reason

    def __reduce__(self) -> tuple[type[ExtractionError], tuple[str, str]]:
        return (type(self), (self.filename, self.reason))


class UnsupportedFormatError(ExtractionError):
    """The file's extension names no format Sluice can read."""


class FileTooLargeError(ExtractionError):
    """The file is over the size limit; its text is skipped on purpose."""


class ExtractionTimeoutError(ExtractionError):
    """Extraction took longer than the time limit; the worker was stopped."""
