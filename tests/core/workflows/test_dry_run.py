"""The dry run against the real server: it predicts what the real sync then does, writes
nothing, and leaves no job behind."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from sluice.core.engine.deletion_guard import MINIMUM_KEY
from sluice.core.engine.runner import run_connector_sync
from sluice.core.es import build_client
from sluice.core.protocol import ConnectorNotFound, FilteringValidationState, open_store
from sluice.core.workflows.dry_run import dry_run
from sluice.sources.registry import create_source

pytestmark = pytest.mark.es


def write_files(folder: Path, names: range, text: str = "note") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / f"file-{n:03d}-ü.txt").write_text(f"{text} {n}\n", encoding="utf-8")


async def dir_connector(es_config: dict[str, Any], folder: Path, **values: Any) -> tuple[str, str]:
    index = f"search-sluice-test-dry-{uuid.uuid4().hex[:10]}"
    client = build_client(es_config)
    try:
        store = await open_store(client)
        connector = await store.create_connector(index_name=index, service_type="dir", name="d")
        source = create_source("dir", {"directory": str(folder), **values})
        await store.update_configuration(connector.id, schema=source.configuration)
        return connector.id, index
    finally:
        await client.close()


async def jobs_of(es_config, connector_id: str) -> list:
    client = build_client(es_config)
    try:
        return await (await open_store(client)).list_jobs(connector_id=connector_id, size=100)
    finally:
        await client.close()


async def contents(es, index: str) -> dict[str, Any]:
    await es.indices.refresh(index=index)
    found = await es.search(index=index, size=1000, query={"match_all": {}})
    return {hit["_id"]: hit["_source"] for hit in found["hits"]["hits"]}


async def test_a_complete_dry_run_predicts_the_real_sync_and_writes_nothing(
    es_config, es, tmp_path, cleanup_indices
):
    folder = tmp_path / "share"
    write_files(folder, range(60))
    connector_id, index = await dir_connector(es_config, folder)
    cleanup_indices.append(index)
    first = await run_connector_sync(es_config, connector_id, source_factory=create_source)
    assert first.counters.indexed == 60
    write_files(folder, range(0, 5), text="edited")  # 5 updated
    for n in range(50, 60):  # 10 deleted
        (folder / f"file-{n:03d}-ü.txt").unlink()
    write_files(folder, range(100, 103))  # 3 new
    before, jobs_before = await contents(es, index), await jobs_of(es_config, connector_id)

    report = await dry_run(es_config, connector_id, source_factory=create_source, limit=None)

    assert report.error is None and report.complete and report.index_exists
    assert (report.new, report.updated, report.unchanged, report.deleted) == (3, 5, 45, 10)
    assert report.read == 53 and report.would_write == 8
    assert await contents(es, index) == before  # nothing written
    assert len(await jobs_of(es_config, connector_id)) == len(jobs_before)  # no job
    real = await run_connector_sync(es_config, connector_id, source_factory=create_source)
    c = real.counters
    assert (c.indexed, c.updated, c.unchanged, c.deleted) == (3, 5, 45, 10)
    assert report.as_dict()["dry_run"] is True


async def test_a_sample_of_a_new_index_shows_documents_fields_and_sizes(
    es_config, es, tmp_path, cleanup_indices
):
    folder = tmp_path / "share"
    write_files(folder, range(40))
    connector_id, index = await dir_connector(es_config, folder)
    cleanup_indices.append(index)

    report = await dry_run(es_config, connector_id, source_factory=create_source, limit=10)

    assert not await es.indices.exists(index=index)  # not even created
    assert report.complete is False and report.deleted is None and not report.index_exists
    assert report.read == 10 and report.new == 10
    assert len(report.sample_documents) == 5 and len(report.sample_ids) == 10
    assert "note" in report.sample_documents[0]["body"]
    fields = {plan.path: plan for plan in report.fields}
    assert (fields["body"].mapping, fields["body"].origin) == ("text", "mapped")
    assert fields["size"].mapping == "long" and fields["size"].origin == "dynamic"
    assert fields["name"].mapping == "text + keyword" and fields["name"].origin == "template"
    assert fields["_timestamp"].mapping == "date"
    sizes = report.sizes
    assert sizes["documents"] == 10 and 0 < sizes["min"] <= sizes["median"] <= sizes["max"]
    assert not report.conflicts


async def test_rules_size_limit_and_mapping_conflicts_are_reported_not_fatal(
    es_config, es, tmp_path, cleanup_indices
):
    from sluice.core.engine.settings import EngineSettings

    folder = tmp_path / "share"
    write_files(folder, range(8))  # excluded by the rule below
    write_files(folder, range(100, 103))
    (folder / "big.txt").write_text("x" * 5000, encoding="utf-8")
    connector_id, index = await dir_connector(es_config, folder)
    cleanup_indices.append(index)
    await es.indices.create(index=index, mappings={"properties": {"size": {"type": "boolean"}}})
    client = build_client(es_config)
    try:
        store = await open_store(client)
        rule = {"id": "r1", "policy": "exclude", "field": "name", "rule": "starts_with"}
        rule |= {"value": "file-00", "order": 0}
        default = {"id": "DEFAULT", "policy": "include", "field": "_", "rule": "regex"}
        default |= {"value": ".*", "order": 1}
        await store.update_filtering_draft(connector_id, rules=[rule, default])
        await store.update_filtering_validation(connector_id, FilteringValidationState.VALID)
        await store.activate_filtering(connector_id)
    finally:
        await client.close()

    report = await dry_run(
        es_config,
        connector_id,
        source_factory=create_source,
        limit=None,
        settings=EngineSettings(max_document_size=2000),
    )

    assert report.error is None
    assert report.excluded == 8 and len(report.excluded_sample) == 8
    assert report.too_large == 1 and "big.txt (5." in report.too_large_sample[0]
    fields = {plan.path: plan for plan in report.fields}
    assert fields["size"].mapping == "boolean" and fields["size"].conflict
    assert any("size is mapped as boolean" in text for text in report.conflicts)
    assert report.new == 3
    assert (await es.count(index=index))["count"] == 0


async def test_a_complete_dry_run_says_the_deletion_guard_would_stop_the_sync(
    es_config, tmp_path, cleanup_indices
):
    folder = tmp_path / "share"
    write_files(folder, range(50))
    connector_id, index = await dir_connector(es_config, folder, **{MINIMUM_KEY: 10})
    cleanup_indices.append(index)
    await run_connector_sync(es_config, connector_id, source_factory=create_source)
    for n in range(30):
        (folder / f"file-{n:03d}-ü.txt").unlink()

    report = await dry_run(es_config, connector_id, source_factory=create_source, limit=None)

    assert report.deleted == 30
    assert report.deletion_guard is not None and report.deletion_guard["would_delete"] == 30


async def test_an_unknown_connector_is_named(es_config):
    with pytest.raises(ConnectorNotFound, match="no-such-connector"):
        await dry_run(es_config, "no-such-connector", source_factory=create_source)
