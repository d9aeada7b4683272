"""Elasticsearch's own words for an API error: the one function every part of Sluice uses to
turn an `ApiError` into text (checks, the connector store, workflows, front ends).

The text never holds a value from the request: Elasticsearch quotes a field's value in some
reasons ("Preview of field's value: ..."), which may be a secret the user typed."""

from __future__ import annotations

import re
from typing import Any

from elasticsearch import ApiError

#: Elasticsearch's quote of the value it could not parse, at the end of some reasons.
_VALUE_PREVIEW = re.compile(r"[.\s]*Preview of field's value:.*\Z", re.DOTALL)


def without_value_preview(text: str) -> str:
    """`text` with Elasticsearch's "Preview of field's value: ..." cut off."""
    cut = _VALUE_PREVIEW.sub("", text)
    return cut if cut == text else f"{cut} (value not shown)"


def error_reason(exc: ApiError) -> str:
    """`error.reason` (or the root cause's, or the error type), a bare error string, or —
    for an answer without a body — `HTTP <status>`; never a quoted field value."""
    body: Any = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            causes = error.get("root_cause") or []
            first = causes[0] if causes and isinstance(causes[0], dict) else {}
            text = error.get("reason") or first.get("reason") or error.get("type")
            if text:
                return without_value_preview(str(text))
        elif isinstance(error, str) and error:
            return without_value_preview(error)
    return f"HTTP {exc.meta.status}"


def error_type(exc: ApiError) -> str | None:
    """Elasticsearch's `error.type` (`index_not_found_exception`, …), when it gave one."""
    body: Any = exc.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        kind = body["error"].get("type")
        return str(kind) if kind else None
    return None
