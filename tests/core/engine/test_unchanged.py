"""A full sync sends only what changed: fingerprints stored in the index decide."""

from __future__ import annotations

import uuid
from typing import Any

from elasticsearch import AsyncElasticsearch

from sluice.core.content_index import create_content_index
from sluice.core.engine.engine import SyncEngine, SyncRequest
from sluice.core.engine.fingerprint import FINGERPRINT_FIELD, Fingerprints, fingerprint_salt
from sluice.core.engine.progress import SyncStatus
from sluice.core.engine.settings import EngineSettings
from tests.core.engine.memory_source import MemorySource, make_docs

SMALL = EngineSettings(chunk_size=50, max_concurrency=3, progress_interval=0.05)


async def full_sync(
    es: AsyncElasticsearch, source: Any, index: str, *, salt: str = "", **request: Any
) -> Any:
    engine = SyncEngine(es, SMALL)
    result = await engine.run(
        source, SyncRequest(index_name=index, fingerprint_salt=salt, **request)
    )
    assert result.status is SyncStatus.COMPLETED, result.error
    return result


async def test_a_full_resync_of_an_unchanged_source_sends_nothing(es, index_name, contents):
    source = MemorySource(make_docs(300))
    first = await full_sync(es, source, index_name)
    assert first.counters.indexed == 300
    before = await contents(index_name)

    again = await full_sync(es, source, index_name)

    c = again.counters
    assert (c.extracted, c.unchanged, c.indexed, c.updated, c.deleted) == (300, 300, 0, 0, 0)
    assert c.bytes == 0  # nothing serialized for the bulk
    assert await contents(index_name) == before


async def test_skipping_leaves_the_same_index_as_a_clean_full_sync(es, index_name, contents):
    source = MemorySource(make_docs(200))
    await full_sync(es, source, index_name)
    for i in range(0, 200, 7):
        source.docs[f"doc-{i}"]["body"] = f"edited {i}"
    for i in range(1, 200, 11):
        source.docs.pop(f"doc-{i}", None)
    source.docs["brand-new"] = {"title": "new", "_timestamp": "2026-05-01T00:00:00+00:00"}

    result = await full_sync(es, source, index_name)
    clean = f"{index_name}-clean"
    try:
        await full_sync(es, source, clean)
        skipped, fresh = await contents(index_name), await contents(clean)
    finally:
        await es.options(ignore_status=404).indices.delete(index=clean)

    assert skipped == fresh  # document by document, fingerprints included
    edited = len(range(0, 200, 7)) - len([i for i in range(0, 200, 7) if i % 11 == 1])
    c = result.counters
    assert (c.updated, c.indexed, c.deleted) == (edited, 1, len(range(1, 200, 11)))
    assert c.unchanged == len(source.docs) - edited - 1


async def test_unchanged_lazy_content_is_never_loaded(es, index_name, contents):
    source = MemorySource(make_docs(20))
    source.lazy = {doc_id: {"text": f"text of {doc_id}"} for doc_id in source.docs}
    await full_sync(es, source, index_name)
    assert len(source.loaded) == 20

    source.loaded.clear()
    source.docs["doc-3"]["_timestamp"] = "2026-06-01T00:00:00+00:00"  # a file modified
    again = await full_sync(es, source, index_name)

    assert source.loaded == ["doc-3"]
    assert (again.counters.unchanged, again.counters.updated) == (19, 1)
    assert (await contents(index_name))["doc-3"]["text"] == "text of doc-3"


async def test_a_document_whose_content_failed_is_read_again_next_time(es, index_name, contents):
    source = MemorySource(make_docs(5))
    source.lazy = {doc_id: {"text": "ok"} for doc_id in source.docs}
    source.lazy["doc-2"] = "the file is locked"
    first = await full_sync(es, source, index_name)
    assert first.counters.failed == 1
    assert FINGERPRINT_FIELD not in (await contents(index_name))["doc-2"]

    source.loaded.clear()
    source.lazy["doc-2"] = {"text": "readable now"}
    again = await full_sync(es, source, index_name)

    assert source.loaded == ["doc-2"]
    assert (await contents(index_name))["doc-2"]["text"] == "readable now"
    assert again.counters.unchanged == 4


async def test_a_new_salt_sends_everything_once(es, index_name):
    source = MemorySource(make_docs(40))
    await full_sync(es, source, index_name, salt="pipeline-a")
    changed = await full_sync(es, source, index_name, salt="pipeline-b")
    assert (changed.counters.updated, changed.counters.unchanged) == (40, 0)
    same = await full_sync(es, source, index_name, salt="pipeline-b")
    assert (same.counters.updated, same.counters.unchanged) == (0, 40)


async def test_volatile_fields_do_not_make_a_document_changed(es, index_name, contents):
    source = MemorySource(make_docs(10))
    source.volatile_fields = ("last_access_time",)  # type: ignore[attr-defined]
    for n, doc in enumerate(source.docs.values()):
        doc["last_access_time"] = 1000.0 + n
    await full_sync(es, source, index_name)

    for doc in source.docs.values():
        doc["last_access_time"] += 3600  # read since: only the access time moved
    source.docs["doc-4"]["size"] = 99  # a real change
    again = await full_sync(es, source, index_name)

    assert (again.counters.unchanged, again.counters.updated) == (9, 1)
    stored = await contents(index_name)
    assert stored["doc-4"]["last_access_time"] == 1000.0 + 4 + 3600  # written ones are current


async def test_opting_out_resends_every_document(es, index_name):
    source = MemorySource(make_docs(30))
    await full_sync(es, source, index_name)
    forced = await full_sync(es, source, index_name, skip_unchanged=False)
    assert (forced.counters.updated, forced.counters.unchanged) == (30, 0)


async def test_an_index_without_the_field_gets_its_mapping(es, index_name):
    await es.indices.create(index=index_name, mappings={"properties": {"title": {"type": "text"}}})
    source = MemorySource(make_docs(10))
    await full_sync(es, source, index_name)
    mapping = (await es.indices.get_mapping(index=index_name))[index_name]["mappings"]
    assert mapping["properties"][FINGERPRINT_FIELD]["type"] == "keyword"
    again = await full_sync(es, source, index_name)
    assert again.counters.unchanged == 10


async def test_a_new_content_index_maps_the_field_as_stored_only(es):
    name = f"search-sluice-test-{uuid.uuid4().hex[:10]}"
    try:
        await create_content_index(es, name)
        mapping = (await es.indices.get_mapping(index=name))[name]["mappings"]
    finally:
        await es.options(ignore_status=404).indices.delete(index=name)
    assert mapping["properties"][FINGERPRINT_FIELD] == {
        "type": "keyword",
        "index": False,
        "doc_values": False,
    }


def test_the_salt_ignores_secrets_and_rule_timestamps() -> None:
    config = {
        "host": {"value": "db.local", "sensitive": False},
        "password": {"value": "one", "sensitive": True},
    }
    rotated = {**config, "password": {"value": "two", "sensitive": True}}
    moved = {**config, "host": {"value": "db2.local", "sensitive": False}}
    rule = {"field": "title", "rule": "contains", "value": "x", "policy": "include", "order": 0}
    rules_a = {"rules": [{**rule, "updated_at": "2026-01-01"}]}
    rules_b = {"rules": [{**rule, "updated_at": "2026-02-02"}]}
    assert fingerprint_salt(config) == fingerprint_salt(rotated)
    assert fingerprint_salt(config) != fingerprint_salt(moved)
    assert fingerprint_salt(config, filtering=rules_a) == fingerprint_salt(
        config, filtering=rules_b
    )
    assert fingerprint_salt(config) != fingerprint_salt(config, filtering=rules_a)
    assert fingerprint_salt(config, pipeline={"name": "a"}) != fingerprint_salt(
        config, pipeline={"name": "b"}
    )


def test_a_fingerprint_depends_on_values_not_key_order() -> None:
    prints = Fingerprints("salt", volatile=("atime",))
    assert prints.of({"a": 1, "b": [1, 2]}) == prints.of({"b": [1, 2], "a": 1})
    assert prints.of({"a": 1, "atime": 5}) == prints.of({"a": 1, "atime": 6})
    assert prints.of({"a": 1}) != prints.of({"a": 2})
    assert prints.of({"a": 1}) != Fingerprints("other").of({"a": 1})
