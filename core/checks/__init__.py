"""Live checks of the environment and the Elasticsearch cluster, for the TUI's checklist and
`sluice check`: each yields a `CheckResult` (status, one-line message, fix, config field)."""

from sluice.core.checks.index_names import (
    index_name_advice,
    index_name_problems,
    suggested_index_name,
    unused_index_name,
)
from sluice.core.checks.result import STATUSES, CheckResult, Status
from sluice.core.checks.runner import CHECKS, collect_checks, planned_checks, run_checks

__all__ = [
    "CHECKS",
    "STATUSES",
    "CheckResult",
    "Status",
    "collect_checks",
    "index_name_advice",
    "index_name_problems",
    "planned_checks",
    "run_checks",
    "suggested_index_name",
    "unused_index_name",
]
