"""Bytes to text: BOMs, UTF-8, then charset detection; and whitespace tidying."""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BLANK_RUNS = re.compile(r"\n[ \t\f\v]*(?:\n[ \t\f\v]*){2,}")
_TRAILING_SPACE = re.compile(r"[ \t\f\v]+\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class NotTextError(ValueError):
    """No character encoding fits: the bytes are binary, not text."""


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode file content whose encoding is unknown.

    Order: a byte-order mark, then strict UTF-8 (by far the most common and the only safe
    fast path), then an encoding the document declares (HTML meta), then detection.
    """
    if not data:
        return ""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise NotTextError("the content is binary: no character encoding fits it")
    return str(best)


def tidy(text: str) -> str:
    """Normalise line ends, drop control characters, squeeze runs of blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _TRAILING_SPACE.sub("\n", text)
    text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()
