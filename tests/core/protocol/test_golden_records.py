"""Compatibility with Elastic's service and Kibana, against the golden records of
tests/golden/records/ (see its README for where each fact comes from).

(a) Sluice reads every golden record and acts on it: a pending job Elastic's service queued is
claimed and run, a suspended one resumes from the cursor Elastic recorded under the literal
dotted key `"connector.sync_cursor"`, a job Elastic left in progress is cleaned up, and the
Connector API's records are read through the API.
(b) What Sluice writes — a new connector, a checked-in one, a job through its lifecycle — has
the golden records' shape field by field, types included; the few deliberate differences are
named in each test with their reason.

All against the real local server, on private connector indices (a per-test index prefix).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from sluice.core.engine.progress import SyncStatus
from sluice.core.engine.runner import run_job
from sluice.core.engine.source import Operation
from sluice.core.es import build_client
from sluice.core.protocol import (
    ApiConnectorStore,
    Connector,
    ConnectorStatus,
    FilteringValidationState,
    IndexConnectorStore,
    JobStatus,
    JobType,
    SyncJob,
    SyncStats,
    TriggerMethod,
    cleanup_stale_jobs,
    pending_jobs,
    validate_cron,
)
from sluice.core.protocol.mappings import IndexNames
from sluice.core.workflows import NewConnector, create_connector
from sluice.sources.registry import create_source, get_source_class
from sluice.sources.schema import validate_configuration
from tests.core.protocol import golden
from tests.core.protocol.golden import ORIGIN, shape_problems
from tests.fakes.fake_connector_api import FakeConnectorApi

pytestmark = pytest.mark.es

PENDING = "job_elastic_index_mode_pending.json"
IN_PROGRESS = "job_elastic_index_mode_in_progress.json"
COMPLETED = "job_elastic_index_mode_completed.json"
ERROR = "job_elastic_index_mode_error.json"
SUSPENDED = "job_elastic_index_mode_suspended.json"
CLI_CONNECTOR = "connector_elastic_cli_index_mode.json"
KIBANA_CONNECTOR = "connector_kibana_index_mode.json"
CONNECTED = "connector_elastic_connected.json"
DOTTED = "connector.sync_cursor"


# ====================================================================== plumbing


class Golden:
    """A store on private connector indices, and golden records put into them."""

    def __init__(self, es: AsyncElasticsearch, prefix: str) -> None:
        self.es = es
        self.names = IndexNames(prefix)
        self.store = IndexConnectorStore(es, index_prefix=prefix)
        self.indices: list[str] = []

    def content_index(self) -> str:
        name = f"search-sluice-golden-{uuid.uuid4().hex[:10]}"
        self.indices.append(name)
        return name

    async def put(self, index: str, doc_id: str, source: Mapping[str, Any]) -> None:
        await self.es.options(headers=ORIGIN).index(
            index=index, id=doc_id, document=dict(source), refresh=True
        )

    async def put_connector(self, doc_id: str, source: Mapping[str, Any]) -> None:
        await self.put(self.names.connectors, doc_id, source)

    async def put_job(self, doc_id: str, source: Mapping[str, Any]) -> None:
        await self.put(self.names.jobs, doc_id, source)

    async def raw(self, index: str, doc_id: str) -> dict[str, Any]:
        resp = await self.es.options(headers=ORIGIN).get(index=index, id=doc_id)
        return resp["_source"]

    async def raw_job(self, doc_id: str) -> dict[str, Any]:
        return await self.raw(self.names.jobs, doc_id)

    async def raw_connector(self, doc_id: str) -> dict[str, Any]:
        return await self.raw(self.names.connectors, doc_id)


@pytest.fixture
async def gold(es: AsyncElasticsearch, index_prefix: str) -> AsyncIterator[Golden]:
    g = Golden(es, index_prefix)
    await g.store.ensure_indices()
    try:
        yield g
    finally:
        for index in (g.names.connectors_concrete, g.names.jobs_concrete, *g.indices):
            await es.options(ignore_status=404).indices.delete(index=index)


def with_directory(configuration: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    result = copy.deepcopy(dict(configuration))
    result["directory"]["value"] = str(folder)
    return result


class CursorSource:
    """A source with a cursor that records the cursor it was started from."""

    service_type = "google_drive"

    def __init__(self) -> None:
        self.started_from: Any = "never started"
        self.sync_cursor: Any = None

    def supports_incremental_sync(self) -> bool:
        return True

    async def get_docs(self, filtering: Any = None) -> AsyncIterator[dict[str, Any]]:
        yield {"_id": "full-1", "title": "full"}
        self.sync_cursor = {"cursor_timestamp": "full"}

    async def get_docs_incrementally(
        self, sync_cursor: Any, filtering: Any = None
    ) -> AsyncIterator[tuple[dict[str, Any], Operation]]:
        self.started_from = copy.deepcopy(sync_cursor)
        yield {"_id": "changed-1", "title": "changed"}, Operation.INDEX
        self.sync_cursor = {**sync_cursor, "cursor_timestamp": "2024-05-09T06:00:00Z"}

    async def close(self) -> None:
        pass


# ====================================================================== (a) reading


@pytest.mark.parametrize("name", golden.names())
def test_every_golden_record_is_read(name):
    """Every field everyone reads comes out typed: statuses as enums, times as datetimes,
    schedules as valid Quartz cron, the configuration as values, the filter as rules."""
    doc_id, source = golden.record(name)
    if name.startswith("connector"):
        connector = Connector(doc_id, source)
        assert isinstance(connector.status, ConnectorStatus), name
        assert connector.name and connector.service_type and connector.index_name
        assert isinstance(connector.configuration_values(), dict)
        for key in ("last_seen", "last_synced"):
            if source.get(key):
                assert isinstance(getattr(connector, key), datetime), key
        for job_type in JobType:
            schedule = connector.schedule(job_type)
            assert isinstance(schedule["enabled"], bool)
            assert validate_cron(schedule["interval"]) is None, schedule
            connector.sync_status(job_type)
            connector.scheduled_at(job_type)
        assert connector.active_filter()["rules"][-1]["id"] == "DEFAULT"
        assert connector.draft_filter()["validation"]["state"] in {
            s.value for s in FilteringValidationState
        }
        assert connector.pipeline["name"] == "search-default-ingestion"
        assert not connector.deleted
        connector.incremental_sync_enabled  # noqa: B018 - reading must not raise
        connector.document_level_security_enabled  # noqa: B018
    else:
        job = SyncJob(doc_id, source)
        assert isinstance(job.status, JobStatus), name
        assert isinstance(job.job_type, JobType)
        assert isinstance(job.trigger_method, TriggerMethod)
        assert job.connector_id and job.index_name and job.service_type
        assert job.configuration and job.filtering["rules"][-1]["id"] == "DEFAULT"
        assert job.pipeline["name"] == "search-default-ingestion"
        for key in ("created_at", "started_at", "last_seen", "completed_at"):
            if source.get(key):
                assert isinstance(getattr(job, key), datetime), key
        assert isinstance(job.indexed_document_count, int)
        assert isinstance(job.indexed_document_volume, int)
        assert job.worker_label == source.get("worker_hostname")
        if source.get(DOTTED) is not None:  # Elastic's index-mode claim recorded it
            assert job.sync_cursor == source[DOTTED]


async def test_a_pending_job_queued_by_elastics_service_is_claimed_and_run(gold, tmp_path):
    """Elastic's connector (its CLI's record) and a job its service queued in index mode:
    Sluice finds the job in its queue, claims it, runs it from the job's snapshot (Elastic's
    `dir` configuration) and ends it as Elastic would, with the connector's bookkeeping."""
    folder = tmp_path / "share"
    (folder / "sub").mkdir(parents=True)
    for path in ("a.txt", "b.md", "sub/c.txt"):
        (folder / path).write_text(f"text of {path}")
    (folder / "no-extension").write_text("not matched by Elastic's **/*.* pattern")
    index = gold.content_index()
    connector_id, connector = golden.record(CLI_CONNECTOR)
    connector["configuration"] = with_directory(connector["configuration"], folder)
    connector["index_name"] = index
    await gold.put_connector(connector_id, connector)
    job_id, job = golden.record(PENDING)
    assert job["connector"]["id"] == connector_id
    job["connector"]["configuration"] = with_directory(job["connector"]["configuration"], folder)
    job["connector"]["index_name"] = index
    await gold.put_job(job_id, job)

    queue = await pending_jobs(gold.store, [connector_id])
    assert [j.id for j in queue] == [job_id]
    result = await run_job(gold.store, gold.es, queue[0], create_source, worker_hostname="gold")

    assert result is not None and result.status is SyncStatus.COMPLETED, result and result.error
    ended = await gold.store.get_job(job_id)
    assert ended.status is JobStatus.COMPLETED
    assert ended.indexed_document_count == 3 and ended.doc["total_document_count"] == 3
    assert ended.worker_hostname == "gold"
    await gold.es.indices.refresh(index=index)
    assert (await gold.es.count(index=index))["count"] == 3
    after = await gold.store.get_connector(connector_id)
    assert after.last_sync_status is JobStatus.COMPLETED
    assert after.doc["last_indexed_document_count"] == 3
    # fields Elastic's CLI wrote and Sluice does not know are still there
    assert after.doc["created_at"] == connector["created_at"]
    assert after.doc["updated_at"] == connector["updated_at"]


async def test_a_suspended_job_resumes_from_the_cursor_elastic_recorded(gold):
    """Elastic's index-mode claim wrote the cursor as the literal key "connector.sync_cursor";
    Sluice resumes the suspended job from exactly that cursor, and the job and connector then
    hold the cursors a Connector API claim and Elastic's `sync_done` would."""
    index = gold.content_index()
    job_id, job = golden.record(SUSPENDED)
    cursor = copy.deepcopy(job[DOTTED])
    assert cursor and "sync_cursor" not in job["connector"]
    job["connector"]["index_name"] = index
    _, connector = golden.record(KIBANA_CONNECTOR)
    connector_id = job["connector"]["id"]
    connector.update(index_name=index, service_type="google_drive")
    await gold.put_connector(connector_id, connector)
    await gold.put_job(job_id, job)

    queue = await pending_jobs(gold.store, [connector_id])
    assert [j.id for j in queue] == [job_id]
    assert queue[0].sync_cursor == cursor
    source = CursorSource()
    result = await run_job(
        gold.store, gold.es, queue[0], lambda service_type, config: source, worker_hostname="gold"
    )

    assert result is not None and result.status is SyncStatus.COMPLETED, result and result.error
    assert source.started_from == cursor
    stored = await gold.raw_job(job_id)
    assert stored["status"] == "completed"
    assert stored["connector"]["sync_cursor"] == cursor  # where the API's `_claim` puts it
    assert stored[DOTTED] == cursor  # Elastic's own key left in agreement
    after = await gold.store.get_connector(connector_id)
    assert after.sync_cursor == source.sync_cursor  # the next incremental sync starts here
    assert after.sync_cursor["cursor_timestamp"] == "2024-05-09T06:00:00Z"


async def test_a_job_elastic_left_in_progress_is_cleaned_up(gold):
    """A job Elastic's service claimed and then went silent (its `last_seen` is old): Sluice's
    cleanup fails it and frees the connector, which Elastic's `sync_starts` had locked."""
    connector_id, connector = golden.record(CLI_CONNECTOR)
    connector.update(status="connected", last_sync_status="in_progress")
    await gold.put_connector(connector_id, connector)
    job_id, job = golden.record(IN_PROGRESS)
    await gold.put_job(job_id, job)
    for name in (COMPLETED, ERROR):
        other_id, other = golden.record(name)
        if other_id != job_id:
            await gold.put_job(other_id, other)

    failed = await cleanup_stale_jobs(gold.store, connector_ids=[connector_id])

    assert failed == [job_id]
    ended = await gold.store.get_job(job_id)
    assert ended.status is JobStatus.ERROR
    assert "connectors-7d9f8c6b5-xk2qp" in ended.error  # the worker Elastic recorded
    after = await gold.store.get_connector(connector_id)
    assert after.last_sync_status is not JobStatus.IN_PROGRESS
    listed = await gold.store.list_jobs(connector_id=connector_id)
    assert {j.status for j in listed} == {JobStatus.ERROR}


async def test_connector_records_of_kibana_and_elastic_are_read_from_the_index(gold):
    for name in (KIBANA_CONNECTOR, CLI_CONNECTOR):
        doc_id, source = golden.record(name)
        await gold.put_connector(f"{doc_id}-{name[:5]}", source)
    connected_id, connected = golden.record(CONNECTED)
    await gold.put_connector(connected_id, connected)

    got = await gold.store.get_connector(connected_id)
    assert got.doc == connected
    assert got.status is ConnectorStatus.CONNECTED
    assert got.configuration_values()["port"] == 5432
    assert got.configuration_values()["ssl_enabled"] is False
    assert got.draft_filter()["validation"]["state"] == "invalid"
    assert [r["id"] for r in got.active_filter()["rules"]] == ["tbl-audit", "DEFAULT"]
    assert got.schedule(JobType.FULL) == {"enabled": True, "interval": "0 0 2 * * ?"}
    listed = await gold.store.list_connectors()
    assert len(listed) == 3
    assert {c.service_type for c in listed} == {"postgresql", "dir"}


async def test_connector_api_records_are_read_through_the_api(es, es_config, index_prefix):
    """`GET _connector/<id>` and `GET _connector/_sync_job/<id>` bodies: the `id` the API adds
    becomes the record's id, the rest is the document; a job another worker runs is left to
    it, and a cancel request goes through the API."""
    names = IndexNames(index_prefix)
    connector_id, connector = golden.record("connector_api.json")
    job_id, job = golden.record("job_api.json")
    with FakeConnectorApi(es_config["host"], index_prefix=index_prefix) as fake:
        client = build_client({**es_config, "host": fake.url})
        try:
            await IndexConnectorStore(es, index_prefix=index_prefix).ensure_indices()
            direct = es.options(headers=ORIGIN)
            await direct.index(
                index=names.connectors, id=connector_id, document=connector, refresh=True
            )
            await direct.index(index=names.jobs, id=job_id, document=job, refresh=True)
            store = ApiConnectorStore(client, index_prefix=index_prefix)

            got = await store.get_connector(connector_id)
            assert got.id == connector_id and got.doc == connector
            assert [c.id for c in await store.list_connectors()] == [connector_id]
            running = await store.get_job(job_id)
            assert running.id == job_id and running.doc == job
            assert running.status is JobStatus.IN_PROGRESS
            assert running.worker_label == "connectors-7d9f8c6b5-xk2qp"

            assert not await store.claim_job(job_id, "sluice-host")  # Elastic's worker has it
            await store.request_cancel(job_id)
            assert (await store.get_job(job_id)).status is JobStatus.CANCELING
        finally:
            await client.close()
            for index in (names.connectors_concrete, names.jobs_concrete):
                await es.options(ignore_status=404).indices.delete(index=index)


# ====================================================================== (b) writing


def without_timestamps(value: Any) -> Any:
    """`value` with every `created_at`/`updated_at` replaced, for comparing values."""
    if isinstance(value, Mapping):
        return {
            k: "<time>" if k in ("created_at", "updated_at") else without_timestamps(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [without_timestamps(v) for v in value]
    return value


#: `deleted: false`: the Connector API writes it into every record it creates.
DELETED = {("deleted",): golden.record("connector_api.json")[1]["deleted"]}


async def test_a_new_connector_is_kibanas_record(gold):
    _, kibana = golden.record(KIBANA_CONNECTOR)
    created = await gold.store.create_connector(
        index_name=kibana["index_name"], service_type=kibana["service_type"], name=kibana["name"]
    )
    ours = await gold.raw_connector(created.id)

    assert shape_problems(ours, kibana, extra=DELETED) == []
    assert without_timestamps({**ours, "deleted": None}) == without_timestamps(
        {**kibana, "deleted": None}
    )


async def test_a_connector_sluice_checks_in_is_elastics_connected_record(gold):
    """Created the way the CLI and the wizard do (the create-connector workflow, the source's
    schema and features), then checked in, validated, scheduled and given draft rules the
    service rejected: field for field Elastic's checked-in record."""
    _, connected = golden.record(CONNECTED)
    source = get_source_class("postgresql")
    configuration = copy.deepcopy(source.default_configuration())
    for key, value in (("host", "pg.internal.example"), ("username", "reader")):
        configuration[key]["value"] = value
    configuration["password"]["value"] = "not-the-golden-one"
    configuration["database"]["value"] = "handbook"
    index = gold.content_index()
    request = NewConnector(
        service_type="postgresql",
        name="handbook",
        index_name=index,
        configuration=configuration,
        given=["host", "username", "password", "database"],
        features=source.features(),
    )
    created = await create_connector(gold.es, gold.store, request, validate=validate_configuration)
    connector_id = created.connector.id
    store = gold.store
    await store.update_status(connector_id, ConnectorStatus.CONNECTED)
    await store.update_error(connector_id, None)
    await store.check_in(connector_id)
    await store.update_scheduling(
        connector_id, {"full": {"enabled": True, "interval": "0 0 2 * * ?"}}
    )
    rule = {"id": "tbl-audit", "field": "table", "policy": "exclude", "rule": "equals"}
    await store.update_filtering_draft(connector_id, rules=[{**rule, "value": "x", "order": 0}])
    await store.update_filtering_validation(
        connector_id,
        FilteringValidationState.INVALID,
        [{"ids": ["tbl-audit"], "messages": ["table x does not exist"]}],
    )
    ours = await gold.raw_connector(connector_id)

    # Sluice's write tokens live under `sluice` (core/protocol/write_tokens.py)
    problems = shape_problems(ours, connected, extra={**DELETED, ("sluice",): None})
    assert problems == []
    assert ours["features"]["sync_rules"] == source.features()["sync_rules"]  # the source's own


def lifecycle_allowances(reference: Mapping[str, Any]) -> dict[tuple[str, ...], Any]:
    """What a job Sluice writes may hold beyond Elastic's index-mode job: the two fields the
    Connector API writes at creation (types from `job_api.json`), with `metadata` holding
    Sluice's own section (the worker's identity, the runner's counters)."""
    return {
        ("metadata",): reference["metadata"],
        ("total_document_count",): reference["total_document_count"],
    }


#: Elastic's index-mode claim writes the cursor under a literal dotted key; Sluice writes it
#: nested under `connector`, as the Connector API's `_claim` does (nothing for a full sync).
CLAIM_KEY = frozenset({(DOTTED,)})


async def test_a_job_through_its_lifecycle_has_elastics_shape(gold):
    _, api_job = golden.record("job_api.json")
    allow = lifecycle_allowances(api_job)
    connector = await gold.store.create_connector(
        index_name=gold.content_index(), service_type="dir", name="lifecycle", language="en"
    )
    _, cli = golden.record(CLI_CONNECTOR)
    await gold.store.update_configuration(connector.id, schema=cli["configuration"])

    job_id = await gold.store.create_job(connector.id)
    pending = await gold.raw_job(job_id)
    assert shape_problems(pending, golden.record(PENDING)[1], extra=allow) == []

    assert await gold.store.claim_job(job_id, "sluice-host")
    claimed = await gold.raw_job(job_id)
    problems = shape_problems(
        claimed, golden.record(IN_PROGRESS)[1], extra=allow, missing=CLAIM_KEY
    )
    assert problems == []

    await gold.store.update_job_stats(
        job_id, SyncStats(indexed_document_count=120, indexed_document_volume=3)
    )
    await gold.store.complete_job(
        job_id,
        SyncStats(indexed_document_count=342, deleted_document_count=4, total_document_count=338),
    )
    completed = await gold.raw_job(job_id)
    problems = shape_problems(
        completed, golden.record(COMPLETED)[1], extra=allow, missing=CLAIM_KEY
    )
    assert problems == []

    failing = await gold.store.create_job(connector.id, trigger_method=TriggerMethod.SCHEDULED)
    assert await gold.store.claim_job(failing, "sluice-host")
    await gold.store.fail_job(
        failing, "PermissionError: denied", SyncStats(total_document_count=338)
    )
    failed = await gold.raw_job(failing)
    problems = shape_problems(failed, golden.record(ERROR)[1], extra=allow, missing=CLAIM_KEY)
    assert problems == []

    # Elastic's suspended job belongs to a connector without a language
    plain = await gold.store.create_connector(
        index_name=gold.content_index(), service_type="dir", name="no language"
    )
    await gold.store.update_configuration(plain.id, schema=cli["configuration"])
    interrupted = await gold.store.create_job(plain.id, JobType.INCREMENTAL)
    assert await gold.store.claim_job(interrupted, "sluice-host", {"cursor_timestamp": "x"})
    await gold.store.suspend_job(interrupted, SyncStats(total_document_count=338))
    suspended = await gold.raw_job(interrupted)
    assert suspended["connector"]["sync_cursor"] == {"cursor_timestamp": "x"}
    golden_suspended = golden.record(SUSPENDED)[1]
    # the golden snapshot has no cursor (Elastic wrote it under the dotted key): ours is typed
    # like that key's value
    cursor_allowed = {**allow, ("connector", "sync_cursor"): golden_suspended[DOTTED]}
    problems = shape_problems(suspended, golden_suspended, extra=cursor_allowed, missing=CLAIM_KEY)
    assert problems == []


async def test_a_connector_created_through_the_api_has_the_apis_shape(es, es_config, index_prefix):
    """What Sluice sends (`PUT _connector/<id>`, `_pipeline`, `_features`) lands as the
    API's own fields with the API's types; read back with `GET _connector/<id>`. The fake
    API leaves out the sync-info fields the real one writes as null; those may be missing."""
    _, api = golden.record("connector_api.json")
    _, connected = golden.record(CONNECTED)
    sync_info = {(key,) for key, value in api.items() if key.startswith("last_") and value is None}
    names = IndexNames(index_prefix)
    with FakeConnectorApi(es_config["host"], index_prefix=index_prefix) as fake:
        client = build_client({**es_config, "host": fake.url})
        try:
            store = ApiConnectorStore(client, index_prefix=index_prefix)
            created = await store.create_connector(
                index_name=api["index_name"],
                service_type=api["service_type"],
                name=api["name"],
                description=api["description"],
                language=api["language"],
                features=get_source_class("dir").features(),
            )
            body = (await client.connector.get(connector_id=created.id)).body
        finally:
            await client.close()
            for index in (names.connectors_concrete, names.jobs_concrete):
                await es.options(ignore_status=404).indices.delete(index=index)
    golden_body = {"id": "<id>", **api}
    # `features`: set through `PUT _connector/<id>/_features` (Elastic's service sets it too)
    extra = {("features",): connected["features"]}
    assert shape_problems(body, golden_body, extra=extra, missing=sync_info) == []
    assert body["id"] == created.id
