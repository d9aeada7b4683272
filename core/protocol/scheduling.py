"""Quartz cron schedules, as Kibana writes them, evaluated with croniter.

Kibana and Elasticsearch store schedules as Quartz cron strings: six or seven fields with
seconds first (`sec min hour day-of-month month day-of-week [year]`), `?` for "no specific
value" in exactly one of the two day fields, and day-of-week numbered 1-7 from Sunday.
croniter (with `second_at_beginning=True`) evaluates everything but that numbering and the
year field, so this module translates the first and applies the second itself. Times are UTC,
as in Elastic's service.

`create_due_scheduled_jobs` is the multi-instance part: the `last_*_scheduled_at` write is
conditional on the connector being unchanged since read, so of several instances looking at
the same connector exactly one creates each scheduled job.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from croniter import CroniterError, croniter

from sluice.core.protocol.models import (
    CLAIMABLE_STATUSES,
    Connector,
    ConnectorStatus,
    JobType,
    TriggerMethod,
)
from sluice.core.protocol.timeutil import utc_now

if TYPE_CHECKING:
    from sluice.core.protocol.store import ConnectorStore

logger = logging.getLogger("sluice.protocol.scheduling")

EXAMPLES = "e.g. '0 0 * * * ?' (hourly) or '0 30 2 ? * MON-FRI' (02:30 on weekdays)"
FIELD_NAMES = ("seconds", "minutes", "hours", "day-of-month", "month", "day-of-week", "year")
_DAY_NAMES = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
_YEAR_MIN, _YEAR_MAX = 1970, 2099
_MAX_STEPS = 2000


class CronError(ValueError):
    """A schedule Sluice (and Elasticsearch) would not accept; the message says why."""


@dataclass(frozen=True)
class QuartzCron:
    """A parsed Quartz expression: the croniter form plus the allowed years (None = any)."""

    expression: str
    croniter_form: str
    years: frozenset[int] | None

    def next_after(self, moment: datetime) -> datetime:
        return self._walk(moment, forward=True)

    def latest_at_or_before(self, moment: datetime) -> datetime | None:
        """The last tick at or before `moment` (None if it never fired before)."""
        try:
            return self._walk(moment + timedelta(microseconds=1), forward=False)
        except CronError:
            return None

    def _walk(self, moment: datetime, *, forward: bool) -> datetime:
        start = _utc(moment)
        for _ in range(_MAX_STEPS):
            try:
                it = croniter(self.croniter_form, start, second_at_beginning=True)
                tick: datetime = it.get_next(datetime) if forward else it.get_prev(datetime)
            except (CroniterError, ValueError) as exc:
                raise CronError(f"{self.expression!r} never fires: {exc}") from None
            tick = _utc(tick)
            if self.years is None or tick.year in self.years:
                return tick
            start = self._jump(tick.year, forward)
        raise CronError(f"{self.expression!r} found no time to fire")

    def _jump(self, year: int, forward: bool) -> datetime:
        """Start of the next (or end of the previous) allowed year."""
        assert self.years is not None
        if forward:
            later = [y for y in self.years if y > year]
            if not later:
                raise CronError(f"{self.expression!r} never fires again (years end)")
            return datetime(min(later), 1, 1, tzinfo=UTC) - timedelta(seconds=1)
        earlier = [y for y in self.years if y < year]
        if not earlier:
            raise CronError(f"{self.expression!r} never fired before")
        return datetime(max(earlier) + 1, 1, 1, tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_cron(expression: str) -> QuartzCron:
    """Parse and check a Quartz cron string; raises CronError with a readable message."""
    if not isinstance(expression, str) or not expression.strip():
        raise CronError(f"the schedule is empty; write a Quartz cron, {EXAMPLES}")
    fields = expression.split()
    if len(fields) not in (6, 7):
        raise CronError(
            f"{expression!r} has {len(fields)} fields; a Quartz cron has 6 or 7 (seconds "
            f"minutes hours day-of-month month day-of-week [year]), {EXAMPLES}"
        )
    for index, field in enumerate(fields):
        if "?" in field and (index not in (3, 5) or field != "?"):
            raise CronError(
                f"{expression!r}: '?' is only allowed alone, in day-of-month or day-of-week "
                f"(found in {FIELD_NAMES[index]} {field!r})"
            )
    dom, dow = fields[3], fields[5]
    if (dom == "?") == (dow == "?"):
        raise CronError(
            f"{expression!r}: exactly one of day-of-month ({dom!r}) and day-of-week ({dow!r}) "
            f"must be '?', {EXAMPLES}"
        )
    years = _parse_years(expression, fields[6]) if len(fields) == 7 else None
    translated = [
        *fields[:3],
        "*" if dom == "?" else dom,
        fields[4],
        "*" if dow == "?" else _translate_day_of_week(expression, dow),
    ]
    cron = " ".join(translated)
    try:
        valid = croniter.is_valid(cron, second_at_beginning=True)
    except (CroniterError, ValueError):
        valid = False
    if not valid:
        raise CronError(
            f"{expression!r} is not a valid cron expression (or uses an unsupported "
            f"Quartz feature such as 'LW' or 'L-n'), {EXAMPLES}"
        )
    parsed = QuartzCron(expression, cron, years)
    parsed.next_after(datetime(2000, 1, 1, tzinfo=UTC) if years else utc_now())
    return parsed


def _translate_day_of_week(expression: str, field: str) -> str:
    """Quartz counts 1 (Sunday) to 7 (Saturday); croniter 0 (Sunday) to 6."""

    def day(token: str) -> str:
        upper = token.upper()
        if upper in _DAY_NAMES:
            return str(_DAY_NAMES[upper])
        if token.isdigit() and 1 <= int(token) <= 7:
            return str(int(token) - 1)
        raise CronError(f"{expression!r}: day-of-week {token!r} is not 1-7 (1 = Sunday) or SUN-SAT")

    parts = []
    for item in field.split(","):
        if item == "*":
            parts.append(item)
        elif item == "L":
            parts.append("6")  # Quartz: 'L' alone in day-of-week means Saturday
        elif m := re.fullmatch(r"(\w+)L", item):
            parts.append(f"L{day(m.group(1))}")
        elif m := re.fullmatch(r"(\w+)#([1-5])", item):
            parts.append(f"{day(m.group(1))}#{m.group(2)}")
        elif m := re.fullmatch(r"(\*|\w+)(?:-(\w+))?(?:/(\d+))?", item):
            first, last, step = m.groups()
            text = first if first == "*" else day(first)
            if last:
                text += f"-{day(last)}"
            if step:
                text += f"/{step}"
            parts.append(text)
        else:
            raise CronError(f"{expression!r}: cannot read day-of-week {item!r}")
    return ",".join(parts)


def _parse_years(expression: str, field: str) -> frozenset[int] | None:
    if field == "*":
        return None
    years: set[int] = set()
    for item in field.split(","):
        m = re.fullmatch(r"(\*|\d{4})(?:-(\d{4}))?(?:/(\d+))?", item)
        if not m:
            raise CronError(f"{expression!r}: cannot read year {item!r} (e.g. 2025, 2025-2030)")
        first, last, step = m.groups()
        low = _YEAR_MIN if first == "*" else int(first)
        high = int(last) if last else (_YEAR_MAX if first == "*" or step else low)
        if not (_YEAR_MIN <= low <= high <= _YEAR_MAX):
            raise CronError(f"{expression!r}: year {item!r} is outside {_YEAR_MIN}-{_YEAR_MAX}")
        years.update(range(low, high + 1, int(step) if step else 1))
    return frozenset(years)


def validate_cron(cron: str) -> str | None:
    """None when `cron` is a usable Quartz schedule, else a message saying what is wrong."""
    try:
        parse_cron(cron)
    except CronError as exc:
        return str(exc)
    return None


def next_run(cron: str, after: datetime) -> datetime:
    """The first time strictly after `after` at which `cron` fires (UTC)."""
    return parse_cron(cron).next_after(after)


def latest_run(cron: str, at_or_before: datetime) -> datetime | None:
    """The last time `cron` fired at or before the given moment (None: never)."""
    return parse_cron(cron).latest_at_or_before(at_or_before)


def scheduled_job_types(connector: Connector) -> list[JobType]:
    """The job types a connector's features allow scheduling (as Elastic's service)."""
    types = [JobType.FULL]
    if connector.incremental_sync_enabled:
        types.append(JobType.INCREMENTAL)
    if connector.document_level_security_enabled:
        types.append(JobType.ACCESS_CONTROL)
    return types


async def create_due_scheduled_jobs(
    store: ConnectorStore, connector: Connector, now: datetime | None = None
) -> list[str]:
    """Create the scheduled jobs that are due for `connector`; returns their ids.

    For each enabled schedule, the latest tick at or before `now` is compared with the
    connector's `last_*_scheduled_at`. A newer tick is claimed by writing it there with
    `if_seq_no`/`if_primary_term`; only the instance whose write succeeds creates the job.
    Missed ticks (the service was down) give one job, not a burst. The first time a schedule
    is seen, the current tick is recorded without a job, so enabling a schedule never starts a
    sync in the past. No job is queued while one of the same type still waits to be claimed.
    """
    now = _utc(now or utc_now())
    if connector.deleted or connector.status in (
        ConnectorStatus.CREATED,
        ConnectorStatus.NEEDS_CONFIGURATION,
    ):
        return []
    current = (
        connector if connector.versioned else await store.read_connector_versioned(connector.id)
    )
    created: list[str] = []
    for job_type in scheduled_job_types(connector):
        if current is None or current.deleted:
            break
        schedule = current.schedule(job_type)
        if schedule.get("enabled") is not True:
            continue
        try:
            tick = latest_run(str(schedule.get("interval")), now)
        except CronError as exc:
            logger.warning("connector %s: %s schedule skipped: %s", current.id, job_type, exc)
            continue
        previous = current.scheduled_at(job_type)
        if tick is None or (previous is not None and tick <= previous):
            continue
        updated = await store.mark_scheduled(current, job_type, tick)
        if updated is None:  # another instance took this tick; see what it wrote
            current = await store.read_connector_versioned(connector.id)
            continue
        current = updated
        if previous is None:
            continue
        waiting = await store.find_jobs(
            statuses=CLAIMABLE_STATUSES, connector_ids=[current.id], job_types=[job_type], size=1
        )
        if waiting:
            logger.info(
                "connector %s: %s job %s still waits; not queueing another",
                current.id,
                job_type,
                waiting[0].id,
            )
            continue
        created.append(await store.create_job(current.id, job_type, TriggerMethod.SCHEDULED))
    return created
