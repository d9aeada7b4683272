"""The network drive through Sluice's engine into the Elasticsearch-compatible server (or the
cluster `SLUICE_ES_URL` names), the files on a real SMB share (Samba): a full sync, a change
on the share and an incremental sync that downloads only what changed, a full sync with
deletions, a folder that cannot be listed (its documents kept) and a file that cannot be
read (indexed with its metadata, counted failed)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from sluice.core import extraction
from sluice.core.engine.engine import SyncResult
from sluice.core.engine.progress import SyncStatus
from sluice.sources.network_drive import NetworkDriveSource
from tests.data import documents
from tests.sources import filetree_sync
from tests.sources.smb_server import Folder, lock, smb_fixture, smb_folder_fixture  # noqa: F401 - fixtures

pytestmark = pytest.mark.es


@pytest.fixture(scope="module", autouse=True)
def stop_pool_after_module():
    yield
    extraction.shutdown()


async def sync(
    es: Any, index: str, config: dict[str, Any], *, incremental: bool = False
) -> tuple[SyncResult, NetworkDriveSource]:
    return await filetree_sync.sync(es, index, NetworkDriveSource, config, incremental=incremental)


async def indexed(es: Any, index: str) -> dict[str, dict[str, Any]]:
    """The index's documents by their path in the test folder."""
    return await filetree_sync.indexed(es, index, lambda d: d["store_path"].split("/", 2)[2])


def inode(path: Path) -> str:
    return str(os.stat(path).st_ino)


async def test_full_change_incremental_and_full_with_deletions(
    es: Any, index_name: str, smb_folder: Folder, tmp_path: Path
):
    plan = smb_folder.write("plan.txt", "The plan: rivers and mountains.")
    smb_folder.write("web/page.html", "<html><body><p>Hello <b>world</b></p></body></html>")
    docx = documents.make_docx(tmp_path / "report.docx", ["Quarterly report about lakes"])
    smb_folder.write("web/deep/report.docx", docx.read_bytes())
    smb_folder.write("web/deep/old.txt", "to be deleted")
    config = smb_folder.config()

    first, source = await sync(es, index_name, config)
    assert first.status is SyncStatus.COMPLETED and first.counters.failed == 0, first.error
    docs = await indexed(es, index_name)
    assert set(docs) == {
        "plan.txt", "web", "web/page.html", "web/deep", "web/deep/report.docx",
        "web/deep/old.txt",
    }  # fmt: skip
    assert first.counters.indexed == 6 and source.files_read == 4
    assert docs["plan.txt"]["_id"] == inode(plan)
    assert docs["plan.txt"]["path"] == smb_folder.unc("plan.txt")
    assert docs["plan.txt"]["body"] == "The plan: rivers and mountains."
    assert docs["web/page.html"]["body"].strip() == "Hello world"
    assert "Quarterly report about lakes" in docs["web/deep/report.docx"]["body"]
    assert docs["web/deep"]["type"] == "folder" and "body" not in docs["web/deep"]

    # a change on the share: one file edited in place, one added at the top
    time.sleep(0.02)
    smb_folder.write("plan.txt", "The plan, revised: lakes.")
    smb_folder.write("agenda.txt", "Monday: kick-off")
    second, source = await sync(es, index_name, config, incremental=True)
    assert second.status is SyncStatus.COMPLETED, second.error
    assert source.files_read == 2  # nothing unchanged was downloaded
    assert (second.counters.indexed, second.counters.updated) == (1, 1)
    assert second.counters.deleted == 0
    docs = await indexed(es, index_name)
    assert docs["plan.txt"]["body"] == "The plan, revised: lakes."
    assert docs["plan.txt"]["_id"] == inode(plan)
    assert docs["agenda.txt"]["body"] == "Monday: kick-off"

    # a full sync removes what is gone: a file, and a whole folder with its file
    (smb_folder.disk / "web/deep/old.txt").unlink()
    (smb_folder.disk / "web/page.html").unlink()
    time.sleep(0.02)
    (smb_folder.disk / "web/deep/report.docx").unlink()
    (smb_folder.disk / "web/deep").rmdir()
    third, _ = await sync(es, index_name, config)
    assert third.status is SyncStatus.COMPLETED, third.error
    assert third.counters.deleted == 4
    assert set(await indexed(es, index_name)) == {"plan.txt", "agenda.txt", "web"}


async def test_a_folder_that_cannot_be_listed_keeps_its_documents(
    es: Any, index_name: str, smb_folder: Folder
):
    for relative in ("closed/a.txt", "closed/inner/b.txt", "open/c.txt", "gone.txt"):
        smb_folder.write(relative, f"text of {relative}")
    smb_folder.write("closedx/d.txt", "a sibling whose name starts alike")
    config = smb_folder.config()
    first, _ = await sync(es, index_name, config)
    assert first.status is SyncStatus.COMPLETED and first.counters.indexed == 9, first.error

    (smb_folder.disk / "gone.txt").unlink()
    (smb_folder.disk / "closedx/d.txt").unlink()
    lock(smb_folder.disk / "closed")
    second, _ = await sync(es, index_name, config)

    assert second.status is SyncStatus.COMPLETED, second.error
    assert second.counters.failed == 1 and second.counters.deleted == 2
    assert second.notice is not None and "could not be listed (3 kept)" in second.notice
    assert f"{smb_folder.drive_path}/closed/" in second.notice
    assert set(await indexed(es, index_name)) == {
        "closed", "closed/a.txt", "closed/inner", "closed/inner/b.txt", "open",
        "open/c.txt", "closedx",
    }  # fmt: skip


async def test_a_file_that_cannot_be_read_is_indexed_and_counted_failed(
    es: Any, index_name: str, smb_folder: Folder
):
    smb_folder.write("fine.txt", "fine")
    secret = smb_folder.write("secret.txt", "nobody may read this")
    lock(secret)
    result, source = await sync(es, index_name, smb_folder.config())
    assert result.status is SyncStatus.COMPLETED, result.error
    assert result.counters.failed == 1 and result.counters.indexed == 2
    assert source.files_read == 1
    docs = await indexed(es, index_name)
    assert docs["fine.txt"]["body"] == "fine"
    assert docs["secret.txt"]["_id"] == inode(secret)
    assert docs["secret.txt"]["size"] == len("nobody may read this")
    assert "body" not in docs["secret.txt"]


@pytest.mark.parametrize(
    ("breakage", "words"),
    [("locked", "may not list the folder"), ("renamed", "does not exist on the share")],
)
async def test_a_configured_folder_that_cannot_be_read_fails_the_sync_and_deletes_nothing(
    es: Any, index_name: str, smb_folder: Folder, breakage: str, words: str
):
    smb_folder.write("a.txt", "a")
    first, _ = await sync(es, index_name, smb_folder.config())
    assert first.status is SyncStatus.COMPLETED, first.error
    before = await indexed(es, index_name)
    if breakage == "locked":
        lock(smb_folder.disk)
    else:
        smb_folder.disk.rename(smb_folder.disk.with_name(smb_folder.name + "-moved"))
    try:
        failed, _ = await sync(es, index_name, smb_folder.config())
    finally:
        if breakage == "renamed":
            smb_folder.disk.with_name(smb_folder.name + "-moved").rename(smb_folder.disk)
        os.chmod(smb_folder.disk, 0o755)
    assert failed.status is SyncStatus.ERROR
    assert words in (failed.error or "")
    assert await indexed(es, index_name) == before
