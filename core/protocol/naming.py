"""Content index names: Elasticsearch's rules, and Kibana's `search-` convention.

Checked before anything is created, so a bad name is one clear message instead of a 400
halfway through creating a connector (some compatible engines accept names Elasticsearch
would refuse; Sluice follows Elasticsearch).
"""

from __future__ import annotations

from sluice.core.echo import quoted

_FORBIDDEN = set('\\/*?"<>| ,#:')
SEARCH_PREFIX = "search-"


def index_name_problem(name: str) -> str | None:
    """Why `name` is not a valid Elasticsearch index name, or None when it is."""
    if not name:
        return "the index name is empty"
    if name != name.lower():
        return f"index name {quoted(name)} must be lowercase"
    bad = sorted(set(name) & _FORBIDDEN)
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return f"index name {quoted(name)} must not contain {shown}"
    if name[0] in "-_+":
        return f"index name {quoted(name)} must not start with '-', '_' or '+'"
    if name in (".", ".."):
        return f"index name {quoted(name)} is not allowed"
    if name.startswith("."):
        return f"index name {quoted(name)} must not start with '.' (reserved for system indices)"
    if len(name.encode("utf-8", "surrogatepass")) > 255:
        return f"index name {quoted(name)} is longer than 255 bytes"
    return None


def index_name_warning(name: str) -> str | None:
    """Kibana's convention (older releases required it); a warning, never a refusal."""
    if not name.startswith(SEARCH_PREFIX):
        return (
            f"index name {quoted(name)} has no '{SEARCH_PREFIX}' prefix: Kibana's connector pages "
            "expect it and releases before 8.13 require it"
        )
    return None
