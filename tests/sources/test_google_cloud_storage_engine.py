"""Google Cloud Storage through Sluice's engine into the Elasticsearch-compatible server (or
the cluster `SLUICE_ES_URL` names). The objects are on the gcp-storage-EMULATOR, the
service account signs in at the FAKE Google token endpoint; `FakeStorage` (a FAKE JSON API)
stands in where the emulator cannot answer 403. A full sync, a change in the bucket and an
incremental sync that downloads only what changed, a full sync with deletions, a bucket
that cannot be listed (its documents kept), an object that cannot be read (indexed with its
metadata, counted failed), and a bucket gone (the sync fails, nothing deleted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sluice.core import extraction
from sluice.core.engine.engine import SyncResult
from sluice.core.engine.progress import SyncStatus
from sluice.sources.google_cloud_storage import GoogleCloudStorageSource
from tests.data import documents
from tests.fakes.fake_google_oauth import FakeGoogleOAuth
from tests.fakes.fake_google_oauth import ServiceAccount as Account
from tests.sources import filetree_sync, gcs_server
from tests.sources.gcs_server import Emulator, EmulatorBucket, FakeStorage, gcs_config

pytestmark = pytest.mark.es

# the fixtures of tests/sources/gcs_server.py
fake_gcs = gcs_server.fake_gcs
gcs_account = gcs_server.gcs_account
gcs_bucket = gcs_server.gcs_bucket
gcs_emulator = gcs_server.gcs_emulator
google_oauth = gcs_server.google_oauth


@pytest.fixture(scope="module", autouse=True)
def stop_pool_after_module():
    yield
    extraction.shutdown()


async def sync(
    es: Any, index: str, config: dict[str, Any], *, incremental: bool = False
) -> tuple[SyncResult, GoogleCloudStorageSource]:
    return await filetree_sync.sync(
        es, index, GoogleCloudStorageSource, config, incremental=incremental
    )


async def indexed(es: Any, index: str) -> dict[str, dict[str, Any]]:
    """The index's documents by their object name."""
    return await filetree_sync.indexed(es, index, lambda d: d["name"])


async def test_full_change_incremental_and_full_with_deletions(
    es: Any,
    index_name: str,
    gcs_emulator: Emulator,
    gcs_bucket: EmulatorBucket,
    google_oauth: FakeGoogleOAuth,
    gcs_account: Account,
    tmp_path: Path,
):
    plan = gcs_bucket.put("plan.txt", "The plan: rivers and mountains.")
    gcs_bucket.put(
        "web/page.html", "<html><body><p>Hello <b>world</b></p></body></html>", "text/html"
    )
    docx = documents.make_docx(tmp_path / "report.docx", ["Quarterly report about lakes"])
    gcs_bucket.put("web/deep/report.docx", docx.read_bytes(), "application/octet-stream")
    gcs_bucket.put("web/deep/old.txt", "to be deleted")
    config = gcs_config(google_oauth.key_json(gcs_account), gcs_emulator.url, gcs_bucket.name)

    first, source = await sync(es, index_name, config)
    assert first.status is SyncStatus.COMPLETED and first.counters.failed == 0, first.error
    docs = await indexed(es, index_name)
    assert set(docs) == {"plan.txt", "web/page.html", "web/deep/report.docx", "web/deep/old.txt"}
    assert first.counters.indexed == 4 and source.files_read == 4
    assert (
        docs["plan.txt"]["_id"] == plan["id"] and docs["plan.txt"]["version"] == plan["generation"]
    )
    assert docs["plan.txt"]["body"] == "The plan: rivers and mountains."
    assert docs["web/page.html"]["body"].strip() == "Hello world"
    assert "Quarterly report about lakes" in docs["web/deep/report.docx"]["body"]
    assert docs["plan.txt"]["store_path"] == f"{gcs_bucket.name}/plan.txt"

    # a change in the bucket: one object rewritten (a new generation, so a new id, as in
    # Elastic's connector), one added, one deleted
    revised = gcs_bucket.put("plan.txt", "The plan, revised: lakes.")
    gcs_bucket.put("agenda.txt", "Monday: kick-off")
    gcs_bucket.delete("web/page.html")
    second, source = await sync(es, index_name, config, incremental=True)
    assert second.status is SyncStatus.COMPLETED, second.error
    assert source.files_read == 2  # nothing unchanged was downloaded
    assert second.counters.indexed == 2 and second.counters.unchanged == 2
    assert second.counters.deleted == 2  # the old generation of plan.txt, and page.html
    docs = await indexed(es, index_name)
    assert set(docs) == {"plan.txt", "agenda.txt", "web/deep/report.docx", "web/deep/old.txt"}
    assert docs["plan.txt"]["_id"] == revised["id"] != plan["id"]
    assert docs["plan.txt"]["body"] == "The plan, revised: lakes."
    assert docs["agenda.txt"]["body"] == "Monday: kick-off"

    # a full sync removes what is gone
    gcs_bucket.delete("web/deep/old.txt")
    gcs_bucket.delete("web/deep/report.docx")
    third, _ = await sync(es, index_name, config)
    assert third.status is SyncStatus.COMPLETED, third.error
    assert third.counters.deleted == 2
    assert set(await indexed(es, index_name)) == {"plan.txt", "agenda.txt"}


async def test_a_bucket_that_cannot_be_listed_keeps_its_documents(
    es: Any,
    index_name: str,
    fake_gcs: FakeStorage,
    google_oauth: FakeGoogleOAuth,
    gcs_account: Account,
):
    for bucket in ("open", "closed"):
        fake_gcs.add_bucket(bucket)
        fake_gcs.put(bucket, f"{bucket}/a.txt", b"a")
        fake_gcs.put(bucket, f"{bucket}/b.txt", b"b")
    config = gcs_config(google_oauth.key_json(gcs_account), fake_gcs.url, "open,closed")
    first, _ = await sync(es, index_name, config)
    assert first.status is SyncStatus.COMPLETED and first.counters.indexed == 4, first.error

    del fake_gcs.buckets["open"].objects["open/b.txt"]
    fake_gcs.buckets["closed"].list_forbidden = True
    second, _ = await sync(es, index_name, config)

    assert second.status is SyncStatus.COMPLETED, second.error
    assert second.counters.failed == 1 and second.counters.deleted == 1
    assert second.notice is not None and "could not be listed (2 kept)" in second.notice
    assert set(await indexed(es, index_name)) == {"open/a.txt", "closed/a.txt", "closed/b.txt"}


async def test_an_object_that_cannot_be_read_is_indexed_and_counted_failed(
    es: Any,
    index_name: str,
    fake_gcs: FakeStorage,
    google_oauth: FakeGoogleOAuth,
    gcs_account: Account,
):
    fake_gcs.add_bucket("files")
    fake_gcs.put("files", "fine.txt", b"fine")
    fake_gcs.put("files", "secret.txt", b"nobody may read this")
    fake_gcs.buckets["files"].read_forbidden.add("secret.txt")
    config = gcs_config(google_oauth.key_json(gcs_account), fake_gcs.url, "files")
    result, source = await sync(es, index_name, config)
    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.counters.failed == 1 and result.counters.indexed == 2
    assert source.files_read == 1
    docs = await indexed(es, index_name)
    assert docs["fine.txt"]["body"] == "fine"
    assert docs["secret.txt"]["size"] == "20" and "body" not in docs["secret.txt"]


async def test_a_bucket_gone_fails_the_sync_and_deletes_nothing(
    es: Any,
    index_name: str,
    gcs_emulator: Emulator,
    gcs_bucket: EmulatorBucket,
    google_oauth: FakeGoogleOAuth,
    gcs_account: Account,
):
    gcs_bucket.put("a.txt", "a")
    key_json = google_oauth.key_json(gcs_account)
    first, _ = await sync(es, index_name, gcs_config(key_json, gcs_emulator.url, gcs_bucket.name))
    assert first.status is SyncStatus.COMPLETED, first.error
    before = await indexed(es, index_name)
    config = gcs_config(key_json, gcs_emulator.url, f"{gcs_bucket.name},sluice-gone-bucket")
    failed, _ = await sync(es, index_name, config)
    assert failed.status is SyncStatus.ERROR
    assert "The bucket 'sluice-gone-bucket' does not exist" in (failed.error or "")
    assert await indexed(es, index_name) == before


async def test_a_refused_key_fails_the_sync_and_deletes_nothing(
    es: Any,
    index_name: str,
    gcs_emulator: Emulator,
    gcs_bucket: EmulatorBucket,
    google_oauth: FakeGoogleOAuth,
    gcs_account: Account,
):
    gcs_bucket.put("a.txt", "a")
    config = gcs_config(google_oauth.key_json(gcs_account), gcs_emulator.url, gcs_bucket.name)
    first, _ = await sync(es, index_name, config)
    assert first.status is SyncStatus.COMPLETED, first.error
    before = await indexed(es, index_name)
    gcs_account.keys.clear()  # the key was deleted in the console
    failed, _ = await sync(es, index_name, config)
    assert failed.status is SyncStatus.ERROR
    assert "Invalid JWT Signature." in (failed.error or "")
    assert await indexed(es, index_name) == before
