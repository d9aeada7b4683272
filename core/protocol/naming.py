"""Content index names: Elasticsearch's rules, and Kibana's `search-` convention.

Checked before anything is created, so a bad name is one clear message instead of a 400
halfway through creating a connector (some compatible engines accept names Elasticsearch
would refuse; Sluice follows Elasticsearch).
"""

from __future__ import annotations

from sluice.core.checks.index_names import SEARCH_PREFIX, index_name_problems
from sluice.core.echo import quoted


def index_name_problem(name: str) -> str | None:
    """Why `name` can't be a connector's content index, or None when it can: Elasticsearch's
    rules (`index_name_problems`, the one list the wizard checks as the user types), and a
    name starting with '.', which Elasticsearch reserves for hidden and system indices."""
    if not name:
        return "the index name is empty"
    problems = index_name_problems(name)
    if problems:
        return f"index name {quoted(name)} " + "; ".join(problems)
    if name.startswith("."):
        return f"index name {quoted(name)} must not start with '.' (reserved for system indices)"
    return None


def index_name_warning(name: str) -> str | None:
    """Kibana's convention (older releases required it); a warning, never a refusal."""
    if not name.startswith(SEARCH_PREFIX):
        return (
            f"index name {quoted(name)} has no '{SEARCH_PREFIX}' prefix: Kibana's connector pages "
            "expect it and releases before 8.13 require it"
        )
    return None
