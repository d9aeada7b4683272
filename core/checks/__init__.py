"""Live checks of the environment and the Elasticsearch cluster, for the TUI's checklist and
`sluice check`: each yields a `CheckResult` (status, one-line message, fix, config field).

Names load on first use (core/lazy.py): `from sluice.core.checks.result import CheckResult`
must not load the Elasticsearch client, which the runner needs — the wizard's first frame
and `sluice --help` don't."""

from typing import TYPE_CHECKING

from sluice.core.lazy import lazy_exports

if TYPE_CHECKING:  # the names below load on first use
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

__getattr__ = lazy_exports(
    __name__,
    {
        "index_names": (
            "index_name_advice",
            "index_name_problems",
            "suggested_index_name",
            "unused_index_name",
        ),
        "result": ("STATUSES", "CheckResult", "Status"),
        "runner": ("CHECKS", "collect_checks", "planned_checks", "run_checks"),
    },
)
