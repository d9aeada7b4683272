"""Which file extensions Sluice extracts text from, and with which reader."""

from __future__ import annotations

import os

PDF = "pdf"
DOCX = "docx"
XLSX = "xlsx"
PPTX = "pptx"
HTML = "html"
TEXT = "text"

# Plain-text formats are decoded as they are (with charset detection); markup stays as-is
# except HTML, whose tags are stripped.
_TEXT_EXTENSIONS = {
    "txt", "text", "md", "markdown", "rst", "adoc", "csv", "tsv", "json", "jsonl", "ndjson",
    "log", "xml", "yaml", "yml", "toml", "ini", "cfg", "conf", "tex", "srt", "vtt",
}  # fmt: skip

_FORMATS: dict[str, str] = {
    "pdf": PDF,
    "docx": DOCX,
    "docm": DOCX,
    "xlsx": XLSX,
    "xlsm": XLSX,
    "pptx": PPTX,
    "pptm": PPTX,
    "html": HTML,
    "htm": HTML,
    "xhtml": HTML,
    **{ext: TEXT for ext in _TEXT_EXTENSIONS},
}

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(_FORMATS)


def format_of(name: str) -> str | None:
    """The reader for a file name (by extension, case-insensitive), or None."""
    # os.path rather than PurePath: called once per file, and pathlib's parsing cost 8 µs
    suffix = os.path.splitext(name)[1][1:].lower()
    return _FORMATS.get(suffix)


def supported_extension(name: str) -> bool:
    """True when Sluice can extract text from a file with this name or extension.

    Accepts a file name (`report.PDF`), a path, or a bare extension (`.pdf` or `pdf`).
    """
    if format_of(name) is not None:
        return True
    return name.lower().lstrip(".") in _FORMATS
