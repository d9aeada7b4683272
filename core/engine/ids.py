"""Document ids as Elasticsearch accepts them: strings of at most 512 bytes."""

from __future__ import annotations

import hashlib
from typing import Any

MAX_ID_BYTES = 512


def normalize_id(raw: Any) -> str:
    """Return a stable `_id` for `raw`; ids longer than 512 bytes are replaced by the MD5 hex
    digest of their UTF-8 bytes, exactly as Elastic's service hashes them, so either service
    maps the same source id to the same document."""
    text = raw if isinstance(raw, str) else str(raw)
    if len(text) <= MAX_ID_BYTES // 4:  # UTF-8 needs at most 4 bytes a character
        return text
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) > MAX_ID_BYTES:
        return hashlib.md5(encoded, usedforsecurity=False).hexdigest()
    return text
