"""Can Elasticsearch store this value? Checked on input, so a value that JSON or a `long`
field cannot hold is refused naming its field — instead of failing as a serialization error
halfway through a workflow (elastic-transport's message would then print the document)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: Elasticsearch stores JSON integers as `long`.
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


def storage_problem(value: Any) -> str | None:
    """Why `value` can't be sent to Elasticsearch as JSON, or None. The reason never quotes
    the value (it may be a secret); the caller names the field."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return (
                "is not valid UTF-8 text (it holds bytes that could not be decoded; check the "
                "encoding of the terminal or file it came from)"
            )
        return None
    if isinstance(value, int):
        if not LONG_MIN <= value <= LONG_MAX:
            return f"is out of range: use a whole number from {LONG_MIN} to {LONG_MAX}"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "must be a finite number (not infinity or NaN)"
    if isinstance(value, Mapping):
        for key, item in value.items():
            problem = storage_problem(key) if isinstance(key, str) else "has a non-text key"
            problem = problem or storage_problem(item)
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        return next((p for item in value if (p := storage_problem(item))), None)
    return f"has a type JSON cannot hold ({type(value).__name__})"
