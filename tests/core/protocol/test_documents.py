"""The documents as stored: exactly the documented fields and types (connector-protocol.md),
the indices' mappings, and the product-origin header on every direct request."""

from __future__ import annotations

import re

import pytest

from sluice.core.es import build_client
from sluice.core.protocol import (
    ApiConnectorStore,
    IndexConnectorStore,
    JobType,
    SyncStats,
    open_store,
)
from sluice.core.protocol.mappings import IndexNames
from tests.fakes.fake_connector_api import FakeConnectorApi

pytestmark = pytest.mark.es

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
SCHEMA = {
    "host": {
        "label": "Host",
        "type": "str",
        "display": "text",
        "required": True,
        "sensitive": False,
        "value": "db.local",
        "order": 1,
    },
    "ssl_enabled": {
        "label": "SSL",
        "type": "bool",
        "display": "toggle",
        "required": False,
        "sensitive": False,
        "value": False,
        "order": 2,
    },
}


def is_iso(value: object) -> bool:
    return isinstance(value, str) and bool(ISO.match(value))


async def test_full_connector_document_field_by_field(es, index_prefix):
    store = IndexConnectorStore(es, index_prefix=index_prefix)
    names = IndexNames(index_prefix)
    try:
        created = await store.create_connector(
            index_name="search-docs-check",
            service_type="postgresql",
            name="Docs check",
            description="field by field",
            language="en",
        )
        doc = (await es.get(index=names.connectors, id=created.id))["_source"]
        ts = doc["filtering"][0]["active"]["rules"][0]["created_at"]
        assert is_iso(ts)
        default_filter = {
            "advanced_snippet": {"created_at": ts, "updated_at": ts, "value": {}},
            "rules": [
                {
                    "created_at": ts,
                    "field": "_",
                    "id": "DEFAULT",
                    "order": 0,
                    "policy": "include",
                    "rule": "regex",
                    "updated_at": ts,
                    "value": ".*",
                }
            ],
            "validation": {"errors": [], "state": "valid"},
        }
        expected = {
            "api_key_id": None,
            "api_key_secret_id": None,
            "configuration": {},
            "custom_scheduling": {},
            "deleted": False,
            "description": "field by field",
            "error": None,
            "features": None,
            "filtering": [{"active": default_filter, "domain": "DEFAULT", "draft": default_filter}],
            "index_name": "search-docs-check",
            "is_native": False,
            "language": "en",
            "last_access_control_sync_error": None,
            "last_access_control_sync_scheduled_at": None,
            "last_access_control_sync_status": None,
            "last_deleted_document_count": None,
            "last_incremental_sync_scheduled_at": None,
            "last_indexed_document_count": None,
            "last_seen": None,
            "last_sync_error": None,
            "last_sync_scheduled_at": None,
            "last_sync_status": None,
            "last_synced": None,
            "name": "Docs check",
            "pipeline": {
                "name": "search-default-ingestion",
                "extract_binary_content": True,
                "reduce_whitespace": True,
                "run_ml_inference": True,
            },
            "scheduling": {
                "access_control": {"enabled": False, "interval": "0 0 0 * * ?"},
                "full": {"enabled": False, "interval": "0 0 0 * * ?"},
                "incremental": {"enabled": False, "interval": "0 0 0 * * ?"},
            },
            "service_type": "postgresql",
            "status": "created",
            "sync_now": False,
        }
        assert sorted(doc) == sorted(expected)
        for key, value in expected.items():
            assert doc[key] == value, key

        await store.update_configuration(created.id, schema=SCHEMA, values={"ssl_enabled": True})
        doc = (await es.get(index=names.connectors, id=created.id))["_source"]
        assert doc["configuration"]["ssl_enabled"]["value"] is True  # a JSON boolean
        assert doc["status"] == "configured"
    finally:
        await _drop(es, names)


async def test_full_job_document_field_by_field(es, index_prefix):
    store = IndexConnectorStore(es, index_prefix=index_prefix)
    names = IndexNames(index_prefix)
    try:
        connector = await store.create_connector(
            index_name="search-job-check", service_type="mysql", language=None
        )
        await store.update_configuration(connector.id, schema=SCHEMA)
        job_id = await store.create_job(connector.id, JobType.INCREMENTAL)
        doc = (await es.get(index=names.jobs, id=job_id))["_source"]
        connector_doc = (await es.get(index=names.connectors, id=connector.id))["_source"]
        active = connector_doc["filtering"][0]["active"]
        # what Elastic's service writes when it queues a job, plus the two fields the
        # Connector API adds (tests/golden/records/job_*.json); the rest comes at the claim
        assert sorted(doc) == sorted(
            [
                "connector",
                "created_at",
                "deleted_document_count",
                "indexed_document_count",
                "indexed_document_volume",
                "job_type",
                "last_seen",
                "metadata",
                "status",
                "total_document_count",
                "trigger_method",
            ]
        )
        assert doc["connector"] == {
            "configuration": connector_doc["configuration"],
            "filtering": active,
            "id": connector.id,
            "index_name": "search-job-check",
            "language": None,
            "pipeline": connector_doc["pipeline"],
            "service_type": "mysql",
        }
        assert doc["job_type"] == "incremental"
        assert doc["trigger_method"] == "on_demand"
        assert doc["status"] == "pending"
        assert is_iso(doc["created_at"]) and doc["last_seen"] == doc["created_at"]
        for key in (
            "deleted_document_count",
            "indexed_document_count",
            "indexed_document_volume",
            "total_document_count",
        ):
            assert doc[key] == 0 and type(doc[key]) is int, key
        assert doc["metadata"] == {}

        assert await store.claim_job(job_id, "worker-1", sync_cursor={"ts": "2024"})
        await store.update_job_stats(
            job_id, SyncStats(indexed_document_count=3, indexed_document_volume=1.6)
        )
        await store.complete_job(job_id, SyncStats(total_document_count=3), sync_cursor={"ts": "x"})
        doc = (await es.get(index=names.jobs, id=job_id))["_source"]
        assert doc["status"] == "completed"
        assert doc["worker_hostname"] == "worker-1"
        assert doc["connector"]["sync_cursor"] == {"ts": "2024"}
        assert doc["indexed_document_volume"] == 2 and type(doc["indexed_document_volume"]) is int
        for key in ("started_at", "last_seen", "completed_at"):
            assert is_iso(doc[key]), key
        assert doc["error"] is None and "canceled_at" not in doc  # as Elastic: only on cancel
        connector_doc = (await es.get(index=names.connectors, id=connector.id))["_source"]
        assert connector_doc["sync_cursor"] == {"ts": "x"}
        assert connector_doc["last_sync_status"] == "completed"
        assert is_iso(connector_doc["last_synced"])
        assert connector_doc["last_indexed_document_count"] == 3
        assert connector_doc["last_deleted_document_count"] == 0
    finally:
        await _drop(es, names)


async def test_indices_are_created_with_elastic_mappings_behind_aliases(es, index_prefix):
    names = IndexNames(index_prefix)
    try:
        store = await open_store(es, prefer="index", index_prefix=index_prefix)
        assert store.backend == "index"
        for alias, concrete in (
            (names.connectors, names.connectors_concrete),
            (names.jobs, names.jobs_concrete),
        ):
            aliases = await es.indices.get_alias(name=alias)
            assert list(aliases) == [concrete]
            mapping = (await es.indices.get_mapping(index=concrete))[concrete]["mappings"]
            assert mapping["dynamic"] in ("false", False)
        connectors = (await es.indices.get_mapping(index=names.connectors_concrete))[
            names.connectors_concrete
        ]["mappings"]["properties"]
        assert connectors["last_sync_status"] == {"type": "keyword"}
        assert connectors["deleted"] == {"type": "boolean"}
        jobs = (await es.indices.get_mapping(index=names.jobs_concrete))[names.jobs_concrete][
            "mappings"
        ]["properties"]
        assert jobs["connector"]["properties"]["id"] == {"type": "keyword"}
        assert jobs["indexed_document_volume"] == {"type": "integer"}
        # a second open finds them and leaves them alone
        await open_store(es, prefer="index", index_prefix=index_prefix)
    finally:
        await _drop(es, names)


@pytest.mark.parametrize("backend", ["index", "api"])
async def test_every_direct_request_carries_the_product_origin_header(
    es, es_config, index_prefix, backend
):
    """Both backends, through the recording proxy: every request that touches the connector
    indices directly carries `X-elastic-product-origin: connectors`."""
    names = IndexNames(index_prefix)
    with FakeConnectorApi(es_config["host"], index_prefix=index_prefix) as fake:
        client = build_client({**es_config, "host": fake.url})
        try:
            store = await open_store(client, prefer=backend, index_prefix=index_prefix)
            assert isinstance(store, ApiConnectorStore) == (backend == "api")
            if backend == "api":  # the fake creates its indices lazily, like ES
                await IndexConnectorStore(es, index_prefix=index_prefix).ensure_indices()
            connector = await store.create_connector(index_name="search-hdr", service_type="dir")
            await store.update_configuration(connector.id, schema=SCHEMA)
            job_id = await store.create_job(connector.id)
            assert await store.claim_job(job_id, "host-a")
            await store.update_job_stats(job_id, SyncStats(indexed_document_count=1))
            await store.complete_job(job_id)
            await store.list_connectors()
        finally:
            await client.close()
        direct = fake.connector_index_requests()
        assert direct, "expected direct requests to the connector indices"
        missing = [
            f"{r.method} {r.path}"
            for r in direct
            if r.headers.get("x-elastic-product-origin") != "connectors"
        ]
        assert missing == []
    await _drop(es, names)


async def test_api_backend_writes_the_documented_fields(es, es_config, index_prefix):
    """Through the fake Connector API, records and jobs carry the documented fields with the
    documented types (the API omits null fields, as Elasticsearch does)."""
    names = IndexNames(index_prefix)
    with FakeConnectorApi(es_config["host"], index_prefix=index_prefix) as fake:
        client = build_client({**es_config, "host": fake.url})
        try:
            store = ApiConnectorStore(client, index_prefix=index_prefix)
            connector = await store.create_connector(
                index_name="search-api-docs", service_type="dir", name="api docs"
            )
            await store.update_configuration(connector.id, schema=SCHEMA)
            job_id = await store.create_job(connector.id)
        finally:
            await client.close()
    doc = (await es.get(index=names.connectors, id=connector.id))["_source"]
    assert doc["name"] == "api docs" and doc["status"] == "configured"
    assert doc["deleted"] is False and doc["is_native"] is False
    assert doc["pipeline"]["name"] == "search-default-ingestion"
    assert doc["configuration"]["ssl_enabled"]["value"] is False
    job = (await es.get(index=names.jobs, id=job_id))["_source"]
    documented = {
        "connector",
        "job_type",
        "trigger_method",
        "status",
        "error",
        "worker_hostname",
        "created_at",
        "started_at",
        "last_seen",
        "completed_at",
        "canceled_at",
        "cancelation_requested_at",
        "indexed_document_count",
        "indexed_document_volume",
        "deleted_document_count",
        "total_document_count",
        "metadata",
    }
    assert set(job) <= documented
    assert set(job["connector"]) <= {
        "id",
        "index_name",
        "language",
        "pipeline",
        "service_type",
        "configuration",
        "filtering",
        "sync_cursor",
    }
    assert job["status"] == "pending" and job["connector"]["id"] == connector.id
    await _drop(es, names)


async def _drop(es, names: IndexNames) -> None:
    for index in (names.connectors_concrete, names.jobs_concrete):
        await es.options(ignore_status=404).indices.delete(index=index)
