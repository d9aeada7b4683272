"""Document ids as Elasticsearch accepts them: strings of at most 512 bytes."""

from __future__ import annotations

import hashlib
from typing import Any

MAX_ID_BYTES = 512


def normalize_id(raw: Any) -> str:
    """Return a stable `_id` for `raw`; ids longer than 512 bytes are replaced by their SHA-256,
    as Elastic's service does, so the same source id always maps to the same document."""
    text = raw if isinstance(raw, str) else str(raw)
    if len(text) <= MAX_ID_BYTES // 4:  # UTF-8 needs at most 4 bytes a character
        return text
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) > MAX_ID_BYTES:
        return hashlib.sha256(encoded).hexdigest()
    return text
