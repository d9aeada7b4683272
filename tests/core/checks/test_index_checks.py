"""Content index and ingest pipeline checks against the cluster under test (real indices,
aliases and pipelines, created and removed here)."""

from __future__ import annotations

import uuid

import pytest

from sluice.core.checks import collect_checks

pytestmark = pytest.mark.es


async def run(es_config, **kwargs):
    return {r.id: r for r in await collect_checks(es_config, timeout=10, **kwargs)}


async def test_new_index_will_be_created(es_config, index_name):
    results = await run(es_config, index_name=index_name)
    assert results["index_name"].status == "ok"
    assert results["index"].status == "ok"
    assert results["index"].message == (
        f"'{index_name}' doesn't exist yet; it will be created with the connector mappings"
    )


async def test_existing_index_with_mappings_and_documents(es, es_config, index_name):
    await es.indices.create(index=index_name, mappings={"properties": {"title": {"type": "text"}}})
    await es.index(index=index_name, id="1", document={"title": "a"}, refresh=True)
    await es.index(index=index_name, id="2", document={"title": "b"}, refresh=True)
    index = (await run(es_config, index_name=index_name))["index"]
    assert index.status == "ok"
    assert index.message.startswith(f"'{index_name}' exists: 2 documents, 1 mapped field")
    assert "a full sync deletes documents the source no longer has" in index.message


async def test_existing_index_without_mappings_warns(es, es_config, index_name):
    await es.indices.create(index=index_name)
    index = (await run(es_config, index_name=index_name))["index"]
    assert index.status == "warn"
    assert "has no mappings: connectors don't sync into an index without them" in index.message
    assert index.field == "index_name"


async def test_alias_is_resolved_and_flagged(es, es_config, index_name):
    alias = f"{index_name}-alias"
    await es.indices.create(index=index_name, mappings={"properties": {"t": {"type": "keyword"}}})
    await es.indices.put_alias(index=index_name, name=alias)
    index = (await run(es_config, index_name=alias))["index"]
    assert index.status == "warn"
    assert index.message.startswith(f"'{alias}' exists (alias of '{index_name}'): 0 documents")


async def test_invalid_name_skips_the_index_check(es_config):
    results = await run(es_config, index_name="Search Docs")
    assert results["index_name"].status == "fail"
    assert results["index_name"].message == (
        "'Search Docs' is not a valid index name: it must be lowercase; it must not contain "
        'space (forbidden: \\ / * ? " < > | space , # :)'
    )
    assert results["index_name"].hint == "try 'search-docs'"
    assert results["index"].message == "skipped: Index name failed"


async def test_index_without_search_prefix_is_advice(es_config):
    results = await run(es_config, index_name=f"docs-{uuid.uuid4().hex[:6]}")
    assert results["index_name"].status == "warn"
    assert "no 'search-' prefix" in results["index_name"].message
    assert results["index"].status == "ok"


async def test_ingest_pipeline_exists_or_not(es, es_config):
    name = f"sluice-test-{uuid.uuid4().hex[:8]}"
    missing = (await run(es_config, pipeline=name))["pipeline"]
    # a warning, as the engine indexes without it; it says what each service does
    assert missing.status == "warn"
    assert missing.message == (
        f"ingest pipeline '{name}' doesn't exist: Sluice indexes without it (no pipeline "
        "processing); Elastic's connector service fails the sync"
    )
    assert missing.hint.startswith("create it, or set the connector's pipeline to one that")
    assert missing.field == "pipeline"

    await es.ingest.put_pipeline(id=name, processors=[{"set": {"field": "x", "value": 1}}])
    try:
        present = (await run(es_config, pipeline=name))["pipeline"]
    finally:
        await es.ingest.delete_pipeline(id=name)
    assert present.status == "ok"
    assert present.message == f"ingest pipeline '{name}' exists (1 processor)"


async def test_no_index_and_no_pipeline_are_skipped(es_config):
    results = await run(es_config)
    assert results["index_name"].status == "skip"
    assert results["index"].status == "skip"
    assert "--index" in results["index"].message
    assert results["pipeline"].message == "no ingest pipeline named"
