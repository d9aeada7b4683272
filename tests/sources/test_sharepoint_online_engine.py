"""SharePoint Online through Sluice's engine into the Elasticsearch-compatible server (or the
cluster `SLUICE_ES_URL` names), the tenant on the FAKE Microsoft cloud: a full sync, a change
in the tenant, an incremental sync, a full sync with deletions, a throttling storm, and
failures that stop the sync before anything is deleted."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sluice.core.engine.engine import SyncEngine, SyncRequest, SyncResult
from sluice.core.engine.progress import ProgressEvent, SyncStatus
from sluice.sources.sharepoint_online import SharePointOnlineSource
from tests.sources.sharepoint_tenant import FakeTenant

pytestmark = pytest.mark.es


async def sync(
    es: Any,
    index: str,
    config: dict[str, Any],
    *,
    incremental: bool = False,
    cursor: Any = None,
    events: list[Any] | None = None,
) -> tuple[SyncResult, SharePointOnlineSource]:
    source = SharePointOnlineSource(config)
    request = SyncRequest(index_name=index, incremental=incremental, sync_cursor=cursor)
    engine = SyncEngine(es, listener=events.append if events is not None else None)
    try:
        return await engine.run(source, request), source
    finally:
        await source.close()


async def indexed(es: Any, index: str) -> dict[str, dict[str, Any]]:
    await es.indices.refresh(index=index)
    response = await es.search(index=index, size=1000, query={"match_all": {}})
    return {hit["_id"]: hit["_source"] for hit in response["hits"]["hits"]}


def named(docs: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {
        str(d.get("name") or d.get("Title") or d.get("FileName") or d["fields"]["Title"]): d
        for d in docs.values()
        if d["object_type"] == kind
    }


async def test_full_change_incremental_and_full_with_deletions(
    es: Any, index_name: str, spo: FakeTenant
):
    config = spo.config()
    first, _ = await sync(es, index_name, config)
    assert first.status is SyncStatus.COMPLETED and first.counters.failed == 0, first.error
    docs = await indexed(es, index_name)
    files = named(docs, "drive_item")
    assert files["plan.txt"]["body"].startswith("The marketing plan")
    assert {"site_page", "list_item_attachment", "list_item", "site_list"} <= {
        d["object_type"] for d in docs.values()
    }
    assert first.counters.indexed == len(docs)
    cursor = first.sync_cursor
    assert len(cursor["site_drives"]) == 2

    # a change in the tenant: one file edited, one deleted, one added
    plan = next(i for i in spo.drive.items.values() if i.name == "plan.txt")
    logo = next(i for i in spo.drive.items.values() if i.name == "logo.png")
    spo.fake.change_file(spo.drive, plan, b"The plan, revised: mountains.")
    spo.fake.delete_file(spo.drive, logo)
    spo.fake.add_file(spo.drive, "agenda.txt", b"Monday: kick-off")
    delta_calls_before = sum("root/delta" in target for _, target in spo.fake.requests)
    second, _ = await sync(es, index_name, config, incremental=True, cursor=cursor)
    assert second.status is SyncStatus.COMPLETED, second.error
    assert sum("root/delta" in t for _, t in spo.fake.requests) - delta_calls_before == 2
    files = named(await indexed(es, index_name), "drive_item")
    assert files["plan.txt"]["body"] == "The plan, revised: mountains."
    assert "logo.png" not in files and files["agenda.txt"]["body"] == "Monday: kick-off"
    assert second.counters.deleted == 1

    # a full sync removes what is gone from any kind: a list item and a page
    spo.tasks.items.pop(2)
    spo.site.pages.clear()
    third, _ = await sync(es, index_name, config)
    assert third.status is SyncStatus.COMPLETED, third.error
    docs = await indexed(es, index_name)
    assert not named(docs, "site_page")
    assert list(named(docs, "list_item")) == ["Write the plan"]
    assert third.counters.deleted == 2


async def test_a_throttling_storm_is_waited_out_and_shown(
    es: Any, index_name: str, spo: FakeTenant
):
    events: list[Any] = []
    spo.fake.storm(seconds=2.5, retry_after=1)
    started = time.monotonic()
    result, _ = await sync(es, index_name, spo.config(), events=events)
    assert result.status is SyncStatus.COMPLETED, result.error
    assert time.monotonic() - started >= 2.0 and spo.fake.throttled >= 1
    waits = [
        e.snapshot.waiting.message()
        for e in events
        if isinstance(e, ProgressEvent) and e.snapshot.waiting is not None
    ]
    assert waits and waits[0].startswith("throttled by Microsoft (HTTP 429), resuming in")
    assert named(await indexed(es, index_name), "drive_item")


@pytest.mark.parametrize(
    ("breakage", "words"),
    [
        ("secret", "AADSTS7000215"),
        ("consent", "no application permission granted"),
        ("site", "nowhere"),
    ],
)
async def test_a_failure_stops_the_sync_and_deletes_nothing(
    es: Any, index_name: str, spo: FakeTenant, breakage: str, words: str
):
    first, _ = await sync(es, index_name, spo.config("secret"))
    assert first.status is SyncStatus.COMPLETED, first.error
    before = await indexed(es, index_name)
    config = spo.config("secret")
    if breakage == "secret":
        config["secret_value"] = "a-wrong-secret"
    elif breakage == "consent":
        spo.app.consented = False
    else:
        config["site_collections"] = "marketing,nowhere"
    failed, _ = await sync(es, index_name, config)
    assert failed.status is SyncStatus.ERROR and words in (failed.error or "")
    assert await indexed(es, index_name) == before
