"""Azure Blob Storage through Sluice's engine into the Elasticsearch-compatible server (or the
cluster SLUICE_ES_URL names), the container on Azurite: a full sync, a change, an
incremental sync that downloads only what changed, a full sync with deletions, archived
blobs, and the failures that must not delete anything."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from sluice.core import extraction
from sluice.core.engine.engine import SyncResult
from sluice.core.engine.fingerprint import FINGERPRINT_FIELD
from sluice.core.engine.progress import SyncStatus
from sluice.sources.azure_blob_storage import AzureBlobStorageSource
from sluice.sources.azure_blob_storage.source import ARCHIVE_NOTICE
from tests.data import documents
from tests.sources import filetree_sync
from tests.sources.azure_server import AzureAccount, Container

pytestmark = pytest.mark.es


@pytest.fixture(scope="module", autouse=True)
def stop_pool_after_module():
    yield
    extraction.shutdown()


async def sync(
    es: Any, index: str, config: dict[str, Any], *, incremental: bool = False
) -> tuple[SyncResult, AzureBlobStorageSource]:
    return await filetree_sync.sync(
        es, index, AzureBlobStorageSource, config, incremental=incremental
    )


async def indexed(es: Any, index: str) -> dict[str, dict[str, Any]]:
    """The indexed documents by `_id` ("container/name", Elastic's id)."""
    docs = await filetree_sync.indexed(es, index, lambda d: d["_id"])
    return {
        key: {f: v for f, v in doc.items() if f not in ("_id", FINGERPRINT_FIELD)}
        for key, doc in docs.items()
    }


async def test_full_change_incremental_and_full_with_deletions(
    es: Any, index_name: str, azure: AzureAccount, container: Container, tmp_path: Path
):
    c = container.name
    container.put("docs/a.txt", "text of a", metadata={"owner": "ada"})
    container.put("docs/b.html", "<html><body><p>text of <b>b</b></p></body></html>")
    docx = documents.make_docx(tmp_path / "c.docx", ["text of c, a report"])
    container.put("docs/c.docx", docx.read_bytes())
    container.put("docs/logo.png", b"\x89PNG")
    config = azure.config(c)
    first, source = await sync(es, index_name, config)
    assert first.status is SyncStatus.COMPLETED and first.counters.failed == 0, first.error
    assert source.files_read == 3  # the image has no text: never downloaded
    docs = await indexed(es, index_name)
    assert set(docs) == {
        f"{c}/docs/a.txt",
        f"{c}/docs/b.html",
        f"{c}/docs/c.docx",
        f"{c}/docs/logo.png",
    }
    a = docs[f"{c}/docs/a.txt"]
    blob = container.blobs()["docs/a.txt"]
    assert a == {
        "id": f"{c}/docs/a.txt",
        "_timestamp": blob.last_modified.isoformat(),
        "created at": blob.creation_time.isoformat(),
        "content type": blob.content_settings.content_type,
        "container metadata": str({"team": "search", "purpose": "tests"}),
        "metadata": "{'owner': 'ada'}",
        "leasedata": str(blob.lease),
        "title": "docs/a.txt",
        "tier": "Hot",
        "size": len("text of a"),
        "container": c,
        "store_path": f"{c}/docs/a.txt",
        "body": "text of a",
    }
    assert docs[f"{c}/docs/b.html"]["body"] == "text of b"
    assert "text of c, a report" in docs[f"{c}/docs/c.docx"]["body"]

    await asyncio.sleep(1.1)  # Last-Modified has whole seconds
    container.put("docs/b.html", "<p>text of b, revised</p>")
    container.put("docs/d.txt", "a new one")
    second, source = await sync(es, index_name, config, incremental=True)
    assert second.status is SyncStatus.COMPLETED, second.error
    assert source.files_read == 2  # only the changed and the new blob were downloaded
    assert second.counters.indexed + second.counters.updated == 2
    docs = await indexed(es, index_name)
    assert docs[f"{c}/docs/b.html"]["body"] == "text of b, revised"
    assert docs[f"{c}/docs/d.txt"]["body"] == "a new one"
    assert docs[f"{c}/docs/a.txt"]["body"] == "text of a"

    container.delete("docs/a.txt")
    container.delete("docs/logo.png")
    third, _ = await sync(es, index_name, config)
    assert third.status is SyncStatus.COMPLETED, third.error
    assert third.counters.deleted == 2
    assert set(await indexed(es, index_name)) == {
        f"{c}/docs/b.html",
        f"{c}/docs/c.docx",
        f"{c}/docs/d.txt",
    }


async def test_a_container_that_cannot_be_listed_keeps_its_documents(
    es: Any, index_name: str, azure: AzureAccount, container: Container
):
    container.put_many([f"kept/{n}.txt" for n in range(3)], b"keep me")
    first, _ = await sync(es, index_name, azure.config(container.name))
    assert first.status is SyncStatus.COMPLETED, first.error
    read_only = azure.sas_config(container.name, azure.account_sas("r", "co"))
    second, _ = await sync(es, index_name, read_only)
    assert second.counters.deleted == 0
    assert second.counters.failed == 1
    assert second.status is SyncStatus.COMPLETED, second.error
    assert second.notice == (
        f"stale documents kept: container {container.name} could not be listed (3 kept)"
    )
    assert len(await indexed(es, index_name)) == 3


async def test_a_missing_container_fails_the_sync_and_deletes_nothing(
    es: Any, index_name: str, azure: AzureAccount, container: Container
):
    container.put("one.txt", "1")
    first, _ = await sync(es, index_name, azure.config(container.name))
    assert first.status is SyncStatus.COMPLETED, first.error
    gone = azure.config(f"{container.name},sluice-no-such-container")
    second, _ = await sync(es, index_name, gone)
    assert second.status is SyncStatus.ERROR
    assert "The container 'sluice-no-such-container' does not exist" in (second.error or "")
    assert second.counters.deleted == 0
    assert set(await indexed(es, index_name)) == {f"{container.name}/one.txt"}


async def test_a_blob_that_cannot_be_read_is_indexed_with_its_metadata_and_counted_failed(
    es: Any, index_name: str, azure: AzureAccount, container: Container
):
    container.put("private.txt", "not for you")
    list_only = azure.sas_config(container.name, azure.account_sas("l", "co"))
    result, _ = await sync(es, index_name, list_only)
    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.counters.failed == 1
    doc = (await indexed(es, index_name))[f"{container.name}/private.txt"]
    assert doc["container"] == container.name and doc["size"] == len("not for you")
    assert "body" not in doc


async def test_an_archived_blob_is_indexed_without_text_and_a_notice(
    es: Any, index_name: str, azure: AzureAccount, container: Container
):
    container.put("cold.txt", "frozen text")
    container.put("warm.txt", "warm text")
    container.archive("cold.txt")
    result, source = await sync(es, index_name, azure.config(container.name))
    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.counters.failed == 0 and source.files_read == 1
    assert ARCHIVE_NOTICE in result.notices
    docs = await indexed(es, index_name)
    cold = docs[f"{container.name}/cold.txt"]
    assert cold["tier"] == "Archive" and "body" not in cold
    assert docs[f"{container.name}/warm.txt"]["body"] == "warm text"
