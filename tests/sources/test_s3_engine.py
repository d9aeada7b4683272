"""S3 through Sluice's engine into the Elasticsearch-compatible server (or the cluster
SLUICE_ES_URL names), the bucket on the real S3 server: a full sync, a change, an
incremental sync that downloads only what changed, a full sync with deletions, and the
failures that must not delete anything."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sluice.core import extraction
from sluice.core.engine.engine import SyncResult
from sluice.core.engine.progress import SyncStatus
from sluice.sources.s3 import S3Source
from tests.sources import filetree_sync
from tests.sources.s3_server import Bucket, S3Server

pytestmark = pytest.mark.es


@pytest.fixture(scope="module", autouse=True)
def stop_pool_after_module():
    yield
    extraction.shutdown()


async def sync(
    es: Any, index: str, config: dict[str, Any], *, incremental: bool = False
) -> tuple[SyncResult, S3Source]:
    return await filetree_sync.sync(es, index, S3Source, config, incremental=incremental)


async def indexed(es: Any, index: str) -> dict[str, dict[str, Any]]:
    return await filetree_sync.indexed(es, index, lambda d: d["filename"])


async def test_full_change_incremental_and_full_with_deletions(
    es: Any, index_name: str, s3_server: S3Server, bucket: Bucket
):
    for name in ("a", "b", "c"):
        bucket.put(f"docs/{name}.txt", f"text of {name}")
    bucket.put("docs/logo.png", b"\x89PNG")
    config = s3_server.config(bucket.name)
    first, source = await sync(es, index_name, config)
    assert first.status is SyncStatus.COMPLETED and first.counters.failed == 0, first.error
    assert source.files_read == 3  # the image has no text: never downloaded
    docs = await indexed(es, index_name)
    assert set(docs) == {"docs/a.txt", "docs/b.txt", "docs/c.txt", "docs/logo.png"}
    assert docs["docs/b.txt"]["body"] == "text of b"

    time.sleep(1.1)  # S3's LastModified has whole seconds
    bucket.put("docs/b.txt", "text of b, revised")
    bucket.put("docs/d.txt", "a new one")
    second, source = await sync(es, index_name, config, incremental=True)
    assert second.status is SyncStatus.COMPLETED, second.error
    assert source.files_read == 2  # only the changed and the new file were downloaded
    assert second.counters.indexed + second.counters.updated == 2
    docs = await indexed(es, index_name)
    assert docs["docs/b.txt"]["body"] == "text of b, revised"
    assert docs["docs/d.txt"]["body"] == "a new one"

    bucket.delete("docs/a.txt")
    bucket.delete("docs/logo.png")
    third, _ = await sync(es, index_name, config)
    assert third.status is SyncStatus.COMPLETED, third.error
    assert third.counters.deleted == 2
    assert set(await indexed(es, index_name)) == {"docs/b.txt", "docs/c.txt", "docs/d.txt"}


async def test_a_bucket_that_cannot_be_listed_keeps_its_documents(
    es: Any, index_name: str, s3_server: S3Server, bucket: Bucket
):
    bucket.put_many([f"kept/{n}.txt" for n in range(3)], b"keep me")
    first, _ = await sync(es, index_name, s3_server.config(bucket.name))
    assert first.status is SyncStatus.COMPLETED, first.error
    access, secret = s3_server.keys("nolist")
    config = s3_server.config(bucket.name, aws_access_key_id=access, aws_secret_access_key=secret)
    second, _ = await sync(es, index_name, config)
    assert second.counters.deleted == 0
    assert second.counters.failed == 1
    assert second.status is SyncStatus.COMPLETED, second.error
    assert second.notice == (
        f"stale documents kept: bucket {bucket.name} could not be listed (3 kept)"
    )
    assert len(await indexed(es, index_name)) == 3


async def test_a_missing_bucket_fails_the_sync_and_deletes_nothing(
    es: Any, index_name: str, s3_server: S3Server, bucket: Bucket
):
    bucket.put("one.txt", "1")
    first, _ = await sync(es, index_name, s3_server.config(bucket.name))
    assert first.status is SyncStatus.COMPLETED, first.error
    gone = s3_server.config(f"{bucket.name},sluice-no-such-bucket-4711")
    second, _ = await sync(es, index_name, gone)
    assert second.status is SyncStatus.ERROR
    assert "'sluice-no-such-bucket-4711' does not exist" in (second.error or "")
    assert second.counters.deleted == 0
    assert set(await indexed(es, index_name)) == {"one.txt"}


async def test_an_object_that_cannot_be_read_is_indexed_with_its_metadata_and_counted_failed(
    es: Any, index_name: str, s3_server: S3Server, bucket: Bucket
):
    bucket.put("private.txt", "not for you")
    access, secret = s3_server.keys("noread")
    config = s3_server.config(bucket.name, aws_access_key_id=access, aws_secret_access_key=secret)
    result, _ = await sync(es, index_name, config)
    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.counters.failed == 1
    doc = (await indexed(es, index_name))["private.txt"]
    assert doc["bucket"] == bucket.name and "body" not in doc


async def test_a_stopped_sync_continues_after_the_last_key_of_its_checkpoint(
    es: Any, index_name: str, s3_server: S3Server, bucket: Bucket, tmp_path
):
    """S3 lists keys in order: the resumed sync yields only the keys after the checkpoint's
    (the listing itself is repeated), and ends with the index a clean sync makes."""
    from sluice.core.engine.checkpoint import Checkpoint
    from sluice.core.engine.engine import StopSignal, SyncEngine, SyncRequest
    from sluice.core.engine.settings import EngineSettings
    from tests.core.engine.conftest import index_contents
    from tests.sources.test_sql_resume import Paced

    keys = [f"notes/{n:04}.txt" for n in range(600)]
    bucket.put_many(keys, b"a note")
    config = s3_server.config(bucket.name)
    fast = EngineSettings(progress_interval=0.01, checkpoint_interval=0.02, chunk_size=50)
    seen: list[Checkpoint] = []
    stop = StopSignal()

    def confirmed(checkpoint: Checkpoint) -> None:
        seen.append(checkpoint)
        if checkpoint.items >= 100:
            stop.suspend()

    ledger = tmp_path / "ledger"
    source = S3Source(config)
    engine = SyncEngine(es, fast, stop=stop, ledger_dir=ledger, on_checkpoint=confirmed)
    first = await engine.run(Paced(source), SyncRequest(index_name=index_name))
    await source.close()
    assert first.status is SyncStatus.SUSPENDED, first.error
    checkpoint = seen[-1]
    assert checkpoint.position == {"root": bucket.name, "key": keys[checkpoint.items - 1]}

    source = S3Source(config)
    resumed = await SyncEngine(es, fast, ledger_dir=ledger, on_checkpoint=lambda _: None).run(
        source, SyncRequest(index_name=index_name), resume=checkpoint
    )
    await source.close()
    assert resumed.status is SyncStatus.COMPLETED, resumed.error
    assert resumed.counters.extracted == len(keys)  # nothing before the checkpoint again
    docs = await index_contents(es, index_name)
    assert sorted(d["filename"] for d in docs.values()) == keys
    assert all(d["body"] == "a note" for d in docs.values())
