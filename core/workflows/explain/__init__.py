"""Why is it stuck? A connector or a sync job that does not progress, explained from its records
and the cluster: the likely causes, most likely first, each with the command that fixes it.

The CLI (`sluice explain ID`) and the TUI show the same `Explanation`. The stuck states it
knows, and how each is told from the records:

- a job nobody claims (`pending`/`suspended`): how long it waited, whether a service checked in
  for its connector lately, whether a running job of the same family holds the connector;
- a job whose worker died (`in_progress`/`canceling` with an old `last_seen`): when cleanup
  fails it (`last_seen` + 5 min, by a service running that connector), and that `sluice run`
  on the worker's host resumes it at once; a Sluice worker of this host whose process is gone;
- a cancel nobody finishes (`canceling` for long, the worker silent or deaf to it);
- a connector locked by a job that no longer exists (`last_sync_status` or
  `last_access_control_sync_status` says in progress, no active job of that family);
- a connector in `error`, or waiting for its configuration;
- schedules that never fire (an invalid cron, no run within 5 years, a connector whose status
  keeps the scheduler away) and, as information, no schedule at all;
- no service checking in: the service doctor (`core.checks.service_doctor`) then says why —
  config.yml, the service type, the cluster's reach, credentials and privileges, the version.

Each module finds one kind of cause (`jobs`, `locks`, `connector`, `schedule`, `service`) in
the records `context` gathers; `explainer` asks them all and sums up (`model`: the findings).
Read-only: explaining never writes a record. Core never imports `sources`: a caller passes the
service types each runner can run (`sources.registry.types_run_by`).
"""

from __future__ import annotations

from sluice.core.protocol.jobs import STALE_AFTER as CLEANUP_AFTER
from sluice.core.workflows.explain.context import FAMILIES
from sluice.core.workflows.explain.explainer import explain
from sluice.core.workflows.explain.jobs import CANCEL_NOTICE, HEARTBEAT_SILENCE, PENDING_PATIENCE
from sluice.core.workflows.explain.model import (
    LIKELIHOODS,
    Explanation,
    Finding,
    Likelihood,
    UnknownTarget,
    clock,
    span,
)
from sluice.core.workflows.explain.schedule import SCHEDULE_HORIZON

__all__ = [
    "CANCEL_NOTICE",
    "CLEANUP_AFTER",
    "FAMILIES",
    "HEARTBEAT_SILENCE",
    "LIKELIHOODS",
    "PENDING_PATIENCE",
    "SCHEDULE_HORIZON",
    "Explanation",
    "Finding",
    "Likelihood",
    "UnknownTarget",
    "clock",
    "explain",
    "span",
]
