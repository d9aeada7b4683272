"""Index-name rules exactly as Elasticsearch applies them when it creates an index.

From Elasticsearch's `MetadataCreateIndexService.validateIndexOrAliasName` (and its docs,
"Create index API > Path parameters"): lowercase only; none of `\\ / * ? " < > |`, space,
`,`, `#` or `:`; not starting with `_`, `-` or `+`; not `.` or `..`; at most 255 bytes.
Checking here means a wrong name is reported while typing, not as a 400 halfway through setup
(and compatible engines that accept such names don't mislead anyone).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

FORBIDDEN_CHARACTERS = ("\\", "/", "*", "?", '"', "<", ">", "|", " ", ",", "#", ":")
FORBIDDEN_FIRST = ("_", "-", "+")
MAX_BYTES = 255
ACL_PREFIX = ".search-acl-filter-"
SEARCH_PREFIX = "search-"


def _show(char: str) -> str:
    return "space" if char == " " else f"'{char}'"


def index_name_problems(name: str) -> list[str]:
    """Every reason Elasticsearch would refuse `name` as an index name; empty when valid."""
    if not name:
        return ["must not be empty"]
    problems: list[str] = []
    if name != name.lower():
        problems.append("must be lowercase")
    found = [c for c in FORBIDDEN_CHARACTERS if c in name]
    if found:
        problems.append(
            "must not contain "
            + ", ".join(_show(c) for c in found)
            + ' (forbidden: \\ / * ? " < > | space , # :)'
        )
    if name[0] in FORBIDDEN_FIRST:
        problems.append(f"must not start with '{name[0]}' (nor with '_', '-' or '+')")
    if name in (".", ".."):
        problems.append("must not be '.' or '..'")
    size = len(name.encode("utf-8"))
    if size > MAX_BYTES:
        problems.append(f"is {size} bytes long; the limit is {MAX_BYTES} bytes (UTF-8)")
    return problems


def index_name_advice(name: str) -> list[str]:
    """Things that are allowed but likely to hurt, for a connector's content index."""
    advice: list[str] = []
    if name.startswith("."):
        advice.append("starts with '.', which Elasticsearch reserves for hidden and system indices")
    elif not name.startswith(SEARCH_PREFIX):
        advice.append(
            "has no 'search-' prefix: Kibana's connector pages follow that convention and "
            "older Elastic releases require it"
        )
    acl_size = len((ACL_PREFIX + name).encode("utf-8"))
    if acl_size > MAX_BYTES:
        advice.append(
            f"is too long for its document-level-security index {ACL_PREFIX}<name> "
            f"({acl_size} bytes, limit {MAX_BYTES})"
        )
    return advice


def suggested_index_name(name: str) -> str:
    """A valid name close to `name`, easy to type in a URL: lowercase, accents dropped
    ("café" → "cafe"; other scripts' letters kept), every other character but letters,
    digits, '.', '_' and '-' turned into one '-', leading '_ - + .' dropped, `search-`
    prefixed, cut to fit 255 bytes. Any name Elasticsearch accepts is still the user's to
    type: this is only the suggestion."""
    folded = unicodedata.normalize("NFKD", name.strip()).lower()
    kept = "".join(
        char if char.isalnum() or char in "._-" else "-"
        for char in folded
        if not unicodedata.combining(char)
    )
    cleaned = re.sub(r"-{2,}", "-", kept).strip("-").lstrip("_+.") or "content"
    if not cleaned.startswith(SEARCH_PREFIX):
        cleaned = SEARCH_PREFIX + cleaned
    while len(cleaned.encode("utf-8")) > MAX_BYTES:
        cleaned = cleaned[:-1]
    return cleaned


def unused_index_name(name: str, taken: Collection[str]) -> str:
    """`suggested_index_name(name)`, or the first of `<it>-2`, `<it>-3`... that no connector
    and no index in `taken` uses yet (a suggestion must never lead into a conflict)."""
    base = suggested_index_name(name)
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        stem = base
        while len((stem + suffix).encode("utf-8")) > MAX_BYTES:
            stem = stem[:-1]
        candidate = stem + suffix
        if candidate not in taken:
            return candidate
        number += 1
