"""Where a connector record is in its life, as the service left it (`read_checkin`): pure,
from records as Kibana, Sluice and Elastic's service write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sluice.core.protocol import Connector
from sluice.core.protocol.checkin import STALE_AFTER, CheckinPhase, read_checkin

NOW = datetime(2025, 3, 14, 12, 0, 0, tzinfo=UTC)
SCHEMA = {
    "confluence_url": {"label": "Confluence URL", "type": "str", "value": "", "order": 1},
    "data_source": {"label": "Data source", "type": "str", "value": "", "order": 2},
}


def kibana_time(moment: datetime) -> str:
    """As Kibana and Sluice write it: `2025-03-14T11:59:30.000Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def record(
    status: str,
    *,
    seen: datetime | str | int | None = None,
    configuration: dict | None = None,
    **extra: object,
) -> Connector:
    doc = {
        "service_type": "confluence",
        "index_name": "search-wiki",
        "name": "Wiki",
        "status": status,
        "configuration": configuration if configuration is not None else {},
        "last_seen": kibana_time(seen) if isinstance(seen, datetime) else seen,
        "error": None,
        "deleted": False,
        **extra,
    }
    return Connector("wiki-1", doc)


def test_no_record_is_missing():
    reading = read_checkin(None, NOW)
    assert reading.phase is CheckinPhase.MISSING
    assert not reading.checked_in
    assert reading.last_seen is None
    assert reading.last_seen_words(NOW) == "never"


def test_a_deleted_record_is_missing():
    deleted = record("connected", seen=NOW, configuration=SCHEMA, deleted=True)
    reading = read_checkin(deleted, NOW)
    assert reading.phase is CheckinPhase.MISSING
    assert not reading.checked_in


def test_created_and_never_seen_is_waiting():
    reading = read_checkin(record("created"), NOW)
    assert reading.phase is CheckinPhase.WAITING
    assert not reading.checked_in
    assert reading.status == "created"
    assert reading.last_seen is None
    assert reading.has_schema is False
    assert reading.service_type == "confluence"
    assert reading.last_seen_words(NOW) == "never"


def test_created_but_seen_without_a_schema_yet_is_still_waiting():
    """The service's first check-in writes `last_seen` before the schema."""
    reading = read_checkin(record("created", seen=NOW - timedelta(seconds=2)), NOW)
    assert reading.phase is CheckinPhase.WAITING
    assert not reading.checked_in


def test_schema_written_and_fresh_heartbeat_needs_configuration():
    seen = NOW - timedelta(seconds=30)
    reading = read_checkin(record("needs_configuration", seen=seen, configuration=SCHEMA), NOW)
    assert reading.phase is CheckinPhase.NEEDS_CONFIGURATION
    assert reading.checked_in
    assert reading.has_schema is True
    assert reading.last_seen == seen
    assert reading.last_seen_words(NOW) == "30 s ago"


def test_configured_with_a_fresh_heartbeat_is_configured():
    reading = read_checkin(
        record("configured", seen=NOW - timedelta(minutes=1), configuration=SCHEMA), NOW
    )
    assert reading.phase is CheckinPhase.CONFIGURED
    assert reading.checked_in


def test_configured_with_a_stale_heartbeat_is_waiting():
    """Values saved, but the service that would judge them is gone."""
    stale = NOW - STALE_AFTER - timedelta(seconds=1)
    reading = read_checkin(record("configured", seen=stale, configuration=SCHEMA), NOW)
    assert reading.phase is CheckinPhase.WAITING
    assert not reading.checked_in
    assert reading.status == "configured"  # the record is not judged, only read


def test_configured_and_never_seen_is_waiting():
    reading = read_checkin(record("configured", configuration=SCHEMA), NOW)
    assert reading.phase is CheckinPhase.WAITING


def test_a_heartbeat_exactly_stale_after_old_still_counts():
    edge = NOW - STALE_AFTER
    reading = read_checkin(record("configured", seen=edge, configuration=SCHEMA), NOW)
    assert reading.phase is CheckinPhase.CONFIGURED


def test_connected():
    reading = read_checkin(
        record("connected", seen=NOW - timedelta(minutes=2), configuration=SCHEMA), NOW
    )
    assert reading.phase is CheckinPhase.CONNECTED
    assert reading.checked_in
    assert reading.error is None


def test_error_carries_the_services_message():
    message = "Cannot connect to Confluence at https://wiki.invalid: Connection refused"
    reading = read_checkin(
        record("error", seen=NOW - timedelta(seconds=5), configuration=SCHEMA, error=message),
        NOW,
    )
    assert reading.phase is CheckinPhase.ERROR
    assert reading.checked_in
    assert reading.error == message


@pytest.mark.parametrize(
    "seen",
    [
        "2025-03-14T11:59:30.000Z",  # Kibana, Sluice
        "2025-03-14T11:59:29.500000000Z",  # the Connector API (Java instant, nanoseconds)
        "2025-03-14T11:59:30.000000+00:00",  # Elastic's Python service
        int((NOW - timedelta(seconds=30)).timestamp() * 1000),  # epoch milliseconds
    ],
)
def test_every_way_last_seen_is_written_is_read(seen):
    reading = read_checkin(record("needs_configuration", seen=seen, configuration=SCHEMA), NOW)
    assert reading.phase is CheckinPhase.NEEDS_CONFIGURATION
    assert reading.last_seen is not None
    assert reading.last_seen_words(NOW) == "30 s ago"


@pytest.mark.parametrize(
    ("ago", "words"),
    [
        (timedelta(seconds=0), "0 s ago"),
        (timedelta(seconds=12), "12 s ago"),
        (timedelta(seconds=89), "89 s ago"),
        (timedelta(seconds=90), "1 min ago"),
        (timedelta(minutes=3, seconds=59), "3 min ago"),
        (timedelta(seconds=5399), "89 min ago"),
        (timedelta(seconds=5400), "1 h ago"),
        (timedelta(hours=2, minutes=30), "2 h ago"),
        (timedelta(seconds=-40), "0 s ago"),  # a clock ahead of ours: never "-40 s"
    ],
)
def test_last_seen_words(ago, words):
    reading = read_checkin(record("connected", seen=NOW - ago, configuration=SCHEMA), NOW)
    assert reading.last_seen_words(NOW) == words


def test_needs_configuration_never_seen_by_any_service_is_waiting():
    reading = read_checkin(record("needs_configuration", configuration=SCHEMA), NOW)
    assert reading.last_seen is None
    assert not reading.checked_in
    assert reading.phase is CheckinPhase.WAITING
