"""The `network_drive` source against a real SMB server (Samba, from scripts/services.sh):
Elastic's documents, folders, paging, a dropped connection, memory on a big folder, and
every error a person can act on."""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from sluice.core import extraction
from sluice.core.engine.source import SourceFailure
from sluice.sources.errors import (
    AuthenticationError,
    ConfigurationError,
    HostUnreachableError,
    InsufficientPrivilegesError,
    PathNotFoundError,
    SourceError,
)
from sluice.sources.filetree.source import Unlisted
from sluice.sources.network_drive import NetworkDriveSource
from tests.data import documents
from tests.sources.helpers import free_port
from tests.sources.items import ERROR, resolve_all
from tests.sources.smb_server import (  # noqa: F401 - fixtures
    PRIVATE_SHARE,
    ClosingServer,
    Folder,
    SMBServer,
    closing_server_fixture,
    lock,
    smb_fixture,
    smb_folder_fixture,
)


@pytest.fixture(scope="module", autouse=True)
def stop_pool_after_module():
    yield
    extraction.shutdown()


async def docs_of(config: dict[str, Any]) -> list[Any]:
    async with NetworkDriveSource(config) as source:
        return await resolve_all(source.get_docs())


async def failure_of(config: dict[str, Any]) -> SourceError:
    source = NetworkDriveSource(config)
    try:
        await source.validate_config()
    except SourceError as exc:
        return exc
    finally:
        await source.close()
    raise AssertionError("validate_config() accepted the configuration")


def inode(path: Path) -> str:
    return str(os.stat(path).st_ino)


# ---------------------------------------------------------------- schema


def test_elastic_keys_first_in_elastic_order_then_sluice_keys():
    schema = NetworkDriveSource.get_default_configuration()
    assert list(schema)[:9] == [
        "username", "password", "server_ip", "server_port", "drive_path",
        "use_document_level_security", "drive_type", "identity_mappings",
        "use_text_extraction_service",
    ]  # fmt: skip
    assert list(schema)[9:] == [
        "include_patterns", "exclude_patterns", "extract_text", "max_file_size",
    ]  # fmt: skip
    assert [schema[k]["order"] for k in schema] == list(range(1, len(schema) + 1))
    assert schema["password"]["sensitive"] is True
    assert schema["server_port"]["type"] == "int"
    assert schema["drive_type"]["options"] == [
        {"label": "Windows", "value": "windows"},
        {"label": "Linux", "value": "linux"},
    ]
    assert schema["identity_mappings"]["depends_on"] == [
        {"field": "use_document_level_security", "value": True},
        {"field": "drive_type", "value": "linux"},
    ]
    assert "Sluice does not apply" in schema["use_document_level_security"]["tooltip"]
    assert NetworkDriveSource.features()["incremental_sync"] == {"enabled": True}


# ---------------------------------------------------------------- documents


async def test_documents_have_elastic_ids_fields_and_text(smb_folder: Folder, tmp_path: Path):
    plan = smb_folder.write("plan.txt", "The plan: rivers and mountains.")
    smb_folder.write("notes/page.html", "<html><body><p>Hello <b>world</b></p></body></html>")
    docx = documents.make_docx(tmp_path / "report.docx", ["Quarterly report about lakes"])
    smb_folder.write("notes/deeper/report.docx", docx.read_bytes())
    smb_folder.write("logo.png", b"\x89PNG not really")
    started = time.time()

    docs = {d["store_path"]: d for d in await docs_of(smb_folder.config())}

    prefix = f"{smb_folder.drive_path}/"
    assert set(docs) == {
        prefix + key
        for key in (
            "plan.txt", "notes", "notes/page.html", "notes/deeper",
            "notes/deeper/report.docx", "logo.png",
        )
    }  # fmt: skip
    first = docs[prefix + "plan.txt"]
    assert first["_id"] == first["id"] == inode(plan)  # the SMB file id: the inode on Samba
    assert first["path"] == smb_folder.unc("plan.txt")
    assert first["title"] == "plan.txt" and first["type"] == "file"
    assert first["size"] == len("The plan: rivers and mountains.")
    assert first["body"] == "The plan: rivers and mountains."
    for field in ("created_at", "_timestamp"):
        assert first[field].endswith("+00:00")
        assert abs(_epoch(first[field]) - started) < 120
    assert docs[prefix + "notes/page.html"]["body"].strip() == "Hello world"
    assert "Quarterly report about lakes" in docs[prefix + "notes/deeper/report.docx"]["body"]
    assert "body" not in docs[prefix + "logo.png"]  # no text to extract from an image
    folder = docs[prefix + "notes/deeper"]
    assert folder["type"] == "folder" and folder["title"] == "deeper"
    assert folder["_id"] == inode(smb_folder.disk / "notes/deeper")
    assert folder["path"] == smb_folder.unc("notes/deeper")
    assert "body" not in folder and ERROR not in folder
    assert len({d["_id"] for d in docs.values()}) == len(docs)
    for doc in docs.values():
        json.dumps(doc)


async def test_ids_are_stable_and_timestamps_move_only_with_the_file(smb_folder: Folder):
    smb_folder.write("a.txt", "one")
    smb_folder.write("b.txt", "two")
    before = {d["title"]: d for d in await docs_of(smb_folder.config(extract_text=False))}
    time.sleep(0.02)  # the change time must be able to differ
    smb_folder.write("a.txt", "one, changed")
    after = {d["title"]: d for d in await docs_of(smb_folder.config(extract_text=False))}
    assert {k: d["_id"] for k, d in after.items()} == {k: d["_id"] for k, d in before.items()}
    assert after["a.txt"]["_timestamp"] > before["a.txt"]["_timestamp"]
    assert after["b.txt"]["_timestamp"] == before["b.txt"]["_timestamp"]


async def test_share_root_backslashes_and_globs(smb: SMBServer, smb_folder: Folder):
    smb_folder.write("keep/a.pdf", b"%PDF-1.4 not really")
    smb_folder.write("keep/b.txt", "b")
    smb_folder.write("skip/c.pdf", b"%PDF-1.4 not really")
    config = smb.config(
        f"{smb.share}\\{smb_folder.name}",  # as Windows users write it
        include_patterns="*.pdf",
        exclude_patterns=f"{smb_folder.name}/skip/**",  # keys are paths in the share
        extract_text=False,
    )
    docs = await docs_of(config)
    files = sorted(d["title"] for d in docs if d["type"] == "file")
    folders = sorted(d["title"] for d in docs if d["type"] == "folder")
    assert files == ["a.pdf"]
    assert folders == ["keep", "skip"]  # folders are documents whatever the globs


async def test_a_folder_that_cannot_be_listed_is_unlisted_and_the_rest_is_read(
    smb_folder: Folder,
):
    smb_folder.write("open/a.txt", "a")
    smb_folder.write("closed/secret.txt", "s")
    smb_folder.write("closed/inner/deep.txt", "d")
    lock(smb_folder.disk / "closed")
    async with NetworkDriveSource(smb_folder.config(extract_text=False)) as source:
        found = [f async for f in source.list_files(source.roots[0])]
        items = await resolve_all(source.get_docs())
    unlisted = [f for f in found if isinstance(f, Unlisted)]
    assert [u.prefix for u in unlisted] == [f"{smb_folder.name}/closed/"]
    assert "access denied" in unlisted[0].reason
    failures = [i for i in items if isinstance(i, SourceFailure)]
    assert len(failures) == 1 and failures[0].operation == "list"
    assert failures[0].scope is not None
    assert failures[0].scope.value == f"{smb_folder.drive_path}/closed/"
    titles = {i["title"] for i in items if not isinstance(i, SourceFailure)}
    assert titles == {"open", "a.txt", "closed"}  # the closed folder itself was listed


async def test_a_file_that_cannot_be_read_fails_alone(smb_folder: Folder):
    smb_folder.write("fine.txt", "fine")
    secret = smb_folder.write("secret.txt", "no one may read this")
    lock(secret)
    docs = {d["title"]: d for d in await docs_of(smb_folder.config())}
    assert docs["fine.txt"]["body"] == "fine" and ERROR not in docs["fine.txt"]
    failed = docs["secret.txt"]
    assert "may not read this file (access denied)" in failed[ERROR]
    assert failed["_id"] == inode(secret) and failed["size"] == len("no one may read this")
    assert "body" not in failed


async def test_more_entries_than_a_page_and_a_batch(smb_folder: Folder):
    smb_folder.many("big", 1500)  # Samba answers a folder listing ~600 entries at a time
    async with NetworkDriveSource(smb_folder.config(extract_text=False)) as source:
        source.listing_batch = 7
        names = [f.key async for f in source.list_files(source.roots[0])]
        assert await source.count_documents() == 1501
    assert len(names) == len(set(names)) == 1501
    assert sum(name.startswith(f"{smb_folder.name}/big/f") for name in names) == 1500


async def test_a_dropped_connection_resumes_the_folder_where_it_was(smb_folder: Folder):
    smb_folder.many("big", 1500)
    async with NetworkDriveSource(smb_folder.config(extract_text=False)) as source:
        source.listing_batch = 100
        names = []
        async for found in source.list_files(source.roots[0]):
            names.append(found.key)
            if len(names) == 750:
                source.client.close()  # every connection dropped in the middle of the folder
        assert len(names) == len(set(names)) == 1501


async def test_fifty_thousand_files_list_with_flat_memory(smb_folder: Folder):
    started = time.monotonic()
    smb_folder.many("small", 5_000)
    smb_folder.many("big", 50_000)
    created = time.monotonic() - started

    async def peak_of(folder: str) -> tuple[int, int, float]:
        count = 0
        async with NetworkDriveSource(
            smb_folder.config(drive_path=f"{smb_folder.drive_path}/{folder}", extract_text=False)
        ) as source:
            await source.ping()
            began = time.monotonic()
            tracemalloc.start()
            try:
                async for _item in source.get_docs():
                    count += 1
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            return count, peak, time.monotonic() - began

    small, small_peak, _ = await peak_of("small")
    big, big_peak, elapsed = await peak_of("big")
    print(
        f"\nnetwork_drive: created 55,000 files in {created:.1f}s; listed {big} in "
        f"{elapsed:.1f}s; tracemalloc peak {small_peak / 2**20:.1f} MiB (5k) vs "
        f"{big_peak / 2**20:.1f} MiB (50k)"
    )
    assert (small, big) == (5_000, 50_000)
    # 50k documents held at once would be ~50 MiB; a streamed listing peaks as 5k does.
    assert big_peak < small_peak * 1.5 + 2 * 2**20, (small_peak, big_peak)


# ---------------------------------------------------------------- errors


async def test_validate_accepts_the_share_and_a_folder(smb: SMBServer, smb_folder: Folder):
    for config in (smb.config(smb.share), smb_folder.config()):
        source = NetworkDriveSource(config)
        try:
            await source.validate_config()
            assert source.coverage() == "1 share"
        finally:
            await source.close()


async def test_a_missing_share(smb: SMBServer):
    error = await failure_of(smb.config("no-such-share/folder"))
    assert isinstance(error, PathNotFoundError)
    assert "no share named 'no-such-share'" in str(error)
    assert list(error.field_errors) == ["drive_path"]


@pytest.mark.parametrize("missing", ["nowhere", "nowhere/deeper"])
async def test_a_missing_folder(smb_folder: Folder, missing: str):
    error = await failure_of(smb_folder.config(drive_path=f"{smb_folder.drive_path}/{missing}"))
    assert isinstance(error, PathNotFoundError)
    assert f"The folder '{smb_folder.drive_path}/{missing}' does not exist" in str(error)
    assert list(error.field_errors) == ["drive_path"]


async def test_a_path_to_a_file(smb_folder: Folder):
    smb_folder.write("report.txt", "r")
    error = await failure_of(smb_folder.config(drive_path=f"{smb_folder.drive_path}/report.txt"))
    assert isinstance(error, PathNotFoundError)
    assert "is a file, not a folder" in str(error)
    assert list(error.field_errors) == ["drive_path"]


async def test_a_share_the_user_may_not_open(smb: SMBServer):
    error = await failure_of(smb.config(PRIVATE_SHARE))
    assert isinstance(error, InsufficientPrivilegesError)
    assert f"may not open the share \\\\{smb.host}\\{PRIVATE_SHARE}" in str(error)
    assert list(error.field_errors) == ["drive_path"]


async def test_a_folder_the_user_may_not_list(smb_folder: Folder):
    lock(smb_folder.write("closed/x.txt", "x").parent)
    error = await failure_of(smb_folder.config(drive_path=f"{smb_folder.drive_path}/closed"))
    assert isinstance(error, InsufficientPrivilegesError)
    assert "may not list the folder" in str(error) and "List folder contents" in str(error)
    assert list(error.field_errors) == ["drive_path"]


@pytest.mark.parametrize("wrong", ["password", "username"])
async def test_wrong_credentials(smb: SMBServer, wrong: str):
    value = "not-the-password" if wrong == "password" else "nobody-here"
    error = await failure_of(smb.config(smb.share, **{wrong: value}))
    assert isinstance(error, AuthenticationError)
    assert "refused the logon: the user name or the password is wrong" in str(error)
    assert sorted(error.field_errors) == ["password", "username"]
    assert "not-the-password" not in str(error)


async def test_nothing_listening(smb: SMBServer):
    port = free_port()
    error = await failure_of(smb.config(smb.share, server_port=port))
    assert isinstance(error, HostUnreachableError)
    assert f"Nothing listens at {smb.host}:{port}" in str(error)
    assert sorted(error.field_errors) == ["server_ip", "server_port"]


async def test_an_unknown_host(smb: SMBServer):
    error = await failure_of(smb.config(smb.share, server_ip="no-such-host.invalid"))
    assert isinstance(error, HostUnreachableError)
    assert "'no-such-host.invalid' cannot be resolved" in str(error)
    assert list(error.field_errors) == ["server_ip"]


async def test_a_port_that_is_not_smb(smb: SMBServer, closing_server: ClosingServer):
    error = await failure_of(smb.config(smb.share, server_port=closing_server.port))
    assert isinstance(error, HostUnreachableError)
    assert "closed the connection when asked for SMB 2 or 3" in str(error)
    assert sorted(error.field_errors) == ["server_ip", "server_port"]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"use_document_level_security": True}, "use_document_level_security",
         "Sluice does not apply document level security"),
        ({"drive_path": "*"}, "drive_path", "* is not accepted"),
        ({"drive_path": "\\\\127.0.0.1\\share"}, "drive_path", "names the server"),
        ({"drive_path": ""}, "drive_path", "'SMB path'"),
        ({"server_ip": "smb://files"}, "server_ip", "is not a host"),
        ({"server_port": 70000}, "server_port", "is not a TCP port"),
    ],
)  # fmt: skip
async def test_local_rules(smb: SMBServer, overrides: dict[str, Any], field: str, words: str):
    error = await failure_of(smb.config(smb.share) | overrides)
    assert isinstance(error, ConfigurationError)
    assert words in error.field_errors[field]


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()
