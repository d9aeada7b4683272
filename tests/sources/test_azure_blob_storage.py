"""The `azure_blob_storage` source against Azurite (which checks shared-key signatures and
SAS tokens), or the account SLUICE_AZURE_BLOB_URL names: documents as Elastic's source
writes them, paging, prefixes, globs, archived blobs, every error a person can act on, and
memory on a big container."""

from __future__ import annotations

import json
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sluice.core import extraction
from sluice.core.engine.deletion_guard import GUARD_FIELDS
from sluice.core.engine.source import SourceFailure, SourceNotice
from sluice.sources.azure_blob_storage import AzureBlobStorageSource
from sluice.sources.errors import (
    AuthenticationError,
    ConfigurationError,
    HostUnreachableError,
    InsufficientPrivilegesError,
    PathNotFoundError,
    TLSError,
)
from sluice.sources.filetree.source import Unlisted
from sluice.sources.filetree.tree import Root
from tests.data import documents
from tests.sources.azure_server import AzureAccount, Container, new_container
from tests.sources.helpers import free_port
from tests.sources.items import ERROR, resolve_all

ELASTIC_KEYS = [
    "account_name", "account_key", "blob_endpoint", "containers", "retry_count",
    "concurrent_downloads", "use_text_extraction_service",
]  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def stop_pool_after_module():
    yield
    extraction.shutdown()


async def docs_of(config: dict[str, Any], **attributes: Any) -> list[dict[str, Any]]:
    async with AzureBlobStorageSource(config) as source:
        for name, value in attributes.items():
            setattr(source, name, value)
        return await resolve_all(source.get_docs())


async def failure_of(config: dict[str, Any]) -> Exception:
    source = AzureBlobStorageSource(config)
    try:
        await source.validate_config()
    except Exception as exc:
        return exc
    finally:
        await source.close()
    raise AssertionError("validate_config() accepted the configuration")


# ---------------------------------------------------------------- schema


def test_elastic_keys_first_in_elastic_order_then_sluice_keys():
    schema = AzureBlobStorageSource.get_default_configuration()
    assert list(schema)[:7] == ELASTIC_KEYS
    assert list(schema)[7:] == [
        "sas_token", "include_patterns", "exclude_patterns", "extract_text", "max_file_size",
    ]  # fmt: skip
    assert schema["account_name"]["label"] == "Azure Blob Storage account name"
    assert schema["retry_count"]["default_value"] == 3
    assert schema["concurrent_downloads"]["default_value"] == 100
    assert schema["concurrent_downloads"]["validations"] == [
        {"type": "less_than", "constraint": 101}
    ]
    assert schema["use_text_extraction_service"]["order"] == 7
    # Sluice's deviations: both secrets masked; the key may be replaced by a SAS
    assert schema["account_key"]["sensitive"] is True and schema["account_key"]["required"] is False
    assert schema["sas_token"]["sensitive"] is True and schema["sas_token"]["required"] is False
    complete = AzureBlobStorageSource.default_configuration()
    assert complete["containers"]["type"] == "list"
    own = [entry["order"] for key, entry in complete.items() if key not in GUARD_FIELDS]
    assert own == list(range(1, 13))
    assert list(complete)[-2:] == list(GUARD_FIELDS)  # the engine's settings come last
    assert AzureBlobStorageSource.features()["incremental_sync"]["enabled"] is True


def test_secrets_are_masked():
    text = repr(
        AzureBlobStorageSource(
            {"account_key": "a-secret-key", "sas_token": "sv=1&sig=a-secret-signature"}
        )
    )
    assert "a-secret-key" not in text and "a-secret-signature" not in text


async def test_local_mistakes_are_named_before_any_request(azure: AzureAccount):
    both = {**azure.config("docs"), "sas_token": azure.account_sas()}
    error = await failure_of(both)
    assert isinstance(error, ConfigurationError)
    message = (
        "'Azure Blob Storage account key' or 'SAS token': give only one of them: a SAS "
        "token is used instead of the key."
    )
    assert error.field_errors["account_key"] == error.field_errors["sas_token"] == message
    error = await failure_of(azure.config("docs", account_key=""))
    assert error.field_errors["account_key"] == error.field_errors["sas_token"]
    assert "give one of them" in error.field_errors["sas_token"]

    error = await failure_of(azure.config("My_Container", blob_endpoint="blob.example.com"))
    assert "is not a blob endpoint" in error.field_errors["blob_endpoint"]
    assert "'My_Container' is not a container name" in error.field_errors["containers"]

    error = await failure_of(azure.config("docs", account_name="someoneelse"))
    assert set(error.field_errors) == {"account_name", "blob_endpoint"}
    assert f"endpoint of the account '{azure.name}'" in error.field_errors["account_name"]

    error = await failure_of(azure.sas_config("docs", "just-some-text"))
    assert "this is not a SAS token" in error.field_errors["sas_token"]


# ---------------------------------------------------------------- documents


async def test_documents_are_elastics_with_text(
    azure: AzureAccount, container: Container, tmp_path: Path
):
    container.put("notes/plan.txt", "The plan: rivers and mountains.", metadata={"owner": "ada"})
    container.put(
        "notes/page.html",
        "<html><body><p>Hello <b>world</b></p></body></html>",
        content_type="text/html",
    )
    docx = documents.make_docx(tmp_path / "report.docx", ["Quarterly report about lakes"])
    container.put("reports/report.docx", docx.read_bytes())
    container.put("images/logo.png", b"\x89PNG not really")
    docs = {d["title"]: d for d in await docs_of(azure.config(container.name))}
    assert set(docs) == {
        "notes/plan.txt",
        "notes/page.html",
        "reports/report.docx",
        "images/logo.png",
    }

    # each field as Elastic's prepare_blob_doc builds it from the library's BlobProperties
    listed = container.blobs()
    for name, doc in docs.items():
        blob = listed[name]
        assert doc["_id"] == doc["id"] == f"{container.name}/{name}"
        assert doc["_timestamp"] == blob.last_modified.isoformat()
        assert doc["created at"] == blob.creation_time.isoformat()
        assert doc["content type"] == blob.content_settings.content_type
        assert doc["container metadata"] == str({"team": "search", "purpose": "tests"})
        assert doc["metadata"] == str(blob.metadata)
        assert doc["leasedata"] == str(blob.lease)
        assert doc["tier"] == blob.blob_tier and doc["size"] == blob.size
        assert doc["container"] == container.name
        assert doc["store_path"] == f"{container.name}/{name}"
        assert ERROR not in doc
    plan = docs["notes/plan.txt"]
    assert plan["metadata"] == "{'owner': 'ada'}"
    assert plan["leasedata"] == "{'status': 'unlocked', 'state': 'available', 'duration': None}"
    assert plan["tier"] == "Hot" and plan["size"] == len("The plan: rivers and mountains.")
    assert plan["body"] == "The plan: rivers and mountains."
    assert docs["notes/page.html"]["content type"] == "text/html"
    assert "Hello world" in docs["notes/page.html"]["body"]
    assert "Quarterly report about lakes" in docs["reports/report.docx"]["body"]
    assert "body" not in docs["images/logo.png"]  # no text to extract: never downloaded
    json.dumps(list(docs.values()))


async def test_pages_prefixes_and_globs(azure: AzureAccount, container: Container):
    names = [f"a/{n}.txt" for n in range(5)] + ["b/1.txt", "b/skip.tmp", "c/d/deep.md"]
    container.put_many(names, b"text")
    pages = 0
    source = AzureBlobStorageSource(azure.config(container.name, extract_text=False))
    source.page_size = 3
    list_page = source.client.list_page

    async def counted(*args: Any) -> Any:
        nonlocal pages
        pages += 1
        return await list_page(*args)

    source.client.list_page = counted  # type: ignore[method-assign]
    try:
        listed = await resolve_all(source.get_docs())
    finally:
        await source.close()
    assert sorted(d["title"] for d in listed) == sorted(names)
    assert pages == 3  # 8 blobs, 3 a page

    under_a = await docs_of(azure.config(f"{container.name}/a/", extract_text=False))
    assert sorted(d["title"] for d in under_a) == [f"a/{n}.txt" for n in range(5)]
    chosen = await docs_of(
        azure.config(
            container.name,
            include_patterns="*.txt,c/**",
            exclude_patterns="a/0.txt",
            extract_text=False,
        )
    )
    assert sorted(d["title"] for d in chosen) == [
        "a/1.txt", "a/2.txt", "a/3.txt", "a/4.txt", "b/1.txt", "c/d/deep.md",
    ]  # fmt: skip


async def test_every_container_with_a_star(azure: AzureAccount, container: Container):
    other = new_container(azure)
    try:
        source = AzureBlobStorageSource(azure.config("*"))
        try:
            roots = await source.all_roots()
        finally:
            await source.close()
        assert {Root(container.name), Root(other.name)} <= set(roots)
    finally:
        other.remove()


async def test_an_archived_blob_is_never_downloaded(azure: AzureAccount, container: Container):
    container.put("old/ledger.txt", "archived text")
    container.put("new/ledger.txt", "current text")
    container.archive("old/ledger.txt")
    notices: list[Any] = []
    source = AzureBlobStorageSource(azure.config(container.name))
    source.watch(notices.append)
    try:
        docs = {d["title"]: d for d in await resolve_all(source.get_docs())}
    finally:
        await source.close()
    old = docs["old/ledger.txt"]
    assert old["tier"] == "Archive" and "body" not in old and ERROR not in old
    assert docs["new/ledger.txt"]["body"] == "current text"
    assert source.files_read == 1
    assert [n.text for n in notices if isinstance(n, SourceNotice)] == [
        "Blobs in the Archive tier are indexed without their text (an archived blob cannot "
        "be read): rehydrate them to the Hot or Cool tier to index their text."
    ]


async def test_an_account_sas_with_read_and_list_reads_everything(
    azure: AzureAccount, container: Container
):
    container.put("a.txt", "alpha")
    config = azure.sas_config(container.name, azure.account_sas("rl", "co"))
    source = AzureBlobStorageSource(config)
    try:
        await source.validate_config()
        assert source.coverage() == "1 container"
        docs = await resolve_all(source.get_docs())
    finally:
        await source.close()
    assert [(d["title"], d["body"]) for d in docs] == [("a.txt", "alpha")]
    assert docs[0]["container metadata"] == str({"team": "search", "purpose": "tests"})
    # '*' needs the Service resource type to list the containers
    error = await failure_of(azure.sas_config("*", azure.account_sas("rl", "co")))
    assert isinstance(error, InsufficientPrivilegesError)
    assert list(error.field_errors) == ["containers"]
    assert "srt=sco" in str(error)


async def test_a_container_sas_reads_its_container(azure: AzureAccount, container: Container):
    container.put("a.txt", "alpha")
    token = azure.container_sas(container.name, "rl")
    source = AzureBlobStorageSource(azure.sas_config(container.name, "?" + token))
    try:
        await source.validate_config()
        docs = await resolve_all(source.get_docs())
    finally:
        await source.close()
    assert [(d["title"], d["body"]) for d in docs] == [("a.txt", "alpha")]
    # such a SAS may read neither the container's properties nor the list of containers
    assert docs[0]["container metadata"] == "{}"
    error = await failure_of(azure.sas_config("*", token))
    assert isinstance(error, InsufficientPrivilegesError)
    assert "a SAS for one container cannot list the account's containers" in str(error)


# ---------------------------------------------------------------- errors


async def test_wrong_account_key_names_the_key_field(azure: AzureAccount, container: Container):
    wrong = "A" * 86 + "=="
    error = await failure_of(azure.config(container.name, account_key=wrong))
    assert isinstance(error, AuthenticationError)
    assert list(error.field_errors) == ["account_key"]
    assert "rejected the account key" in str(error) and "Access keys" in str(error)
    assert wrong not in str(error)


async def test_unknown_account_names_the_account_field(azure: AzureAccount):
    config = azure.config(
        "docs", account_name="nosuchaccount", blob_endpoint=azure.elsewhere("nosuchaccount")
    )
    error = await failure_of(config)
    assert isinstance(error, AuthenticationError)
    assert list(error.field_errors) == ["account_name"]
    assert "There is no storage account named 'nosuchaccount'" in str(error)


async def test_unreachable_endpoint_and_tls_name_the_endpoint(
    azure: AzureAccount, container: Container
):
    closed = f"http://127.0.0.1:{free_port()}/{azure.name}"
    error = await failure_of(azure.config(container.name, blob_endpoint=closed))
    assert isinstance(error, HostUnreachableError)
    assert list(error.field_errors) == ["blob_endpoint"]
    assert f"Nothing answers at {closed}" in str(error)
    https = azure.url.replace("http://", "https://")
    error = await failure_of(azure.config(container.name, blob_endpoint=https))
    assert isinstance(error, TLSError)
    assert list(error.field_errors) == ["blob_endpoint"]


async def test_missing_container_names_the_containers_field(
    azure: AzureAccount, container: Container
):
    error = await failure_of(azure.config(f"{container.name},sluice-no-such-container"))
    assert isinstance(error, PathNotFoundError)
    assert list(error.field_errors) == ["containers"]
    assert "The container 'sluice-no-such-container' does not exist" in str(error)


async def test_no_permission_to_list_vs_no_permission_to_read(
    azure: AzureAccount, container: Container
):
    container.put("secret.txt", "classified")
    read_only = azure.sas_config(container.name, azure.account_sas("r", "co"))
    error = await failure_of(read_only)
    assert isinstance(error, InsufficientPrivilegesError)
    assert list(error.field_errors) == ["containers"]
    assert "may not list the blobs of the container" in str(error) and "sp=rl" in str(error)
    async with AzureBlobStorageSource(read_only) as source:
        listed = [item async for item in source.list_files(source.roots[0])]
        items = [item async for item in source.get_docs()]
    assert len(listed) == 1 and isinstance(listed[0], Unlisted)
    assert len(items) == 1 and isinstance(items[0], SourceFailure)
    assert items[0].scope is not None and items[0].scope.value == f"{container.name}/"

    list_only = azure.sas_config(container.name, azure.account_sas("l", "co"))
    docs = await docs_of(list_only)  # listing works; reading the blob does not
    assert [d["title"] for d in docs] == ["secret.txt"]
    assert "may not read it (the SAS token needs the Read permission" in docs[0][ERROR]
    assert "body" not in docs[0]


async def test_expired_sas_names_its_expiry(azure: AzureAccount, container: Container):
    token = azure.account_sas("rl", "co", expires_in=timedelta(hours=-1))
    error = await failure_of(azure.sas_config(container.name, token))
    assert isinstance(error, AuthenticationError)
    assert list(error.field_errors) == ["sas_token"]
    expiry = dict(part.split("=", 1) for part in token.split("&"))["se"]
    shown = expiry.replace("%3A", ":").replace("T", " ").replace("Z", " UTC")
    assert f"The SAS token expired at {shown}" in str(error)


async def test_a_sas_signed_with_another_key_names_the_token(
    azure: AzureAccount, container: Container
):
    other = AzureAccount(azure.url, azure.name, "B" * 86 + "==")
    error = await failure_of(azure.sas_config(container.name, other.account_sas()))
    assert isinstance(error, AuthenticationError)
    assert list(error.field_errors) == ["sas_token"]
    assert "rejected the SAS token" in str(error)


async def test_a_container_removed_during_a_sync_fails_it(
    azure: AzureAccount, container: Container
):
    container.put_many([f"{n}.txt" for n in range(4)], b"x")
    source = AzureBlobStorageSource(azure.config(container.name, extract_text=False))
    source.page_size = 2
    try:
        with pytest.raises(PathNotFoundError) as info:
            async for _item in source.get_docs():
                container.remove()
    finally:
        await source.close()
    assert info.value.fields == ("containers",)


# ---------------------------------------------------------------- memory

#: Azurite slows down as a container grows (here: 5,000 blobs in 11 s, the next 5,000 in
#: 21 s, then 31 s, 54 s; it saves its whole metadata file every 5 s): 50,000 would take
#: about ten minutes. The big container has what fits in well under a minute, ten times the
#: small listing (one page).
SMALL, BIG = 1_000, 10_000


async def test_listing_many_blobs_keeps_memory_flat(azure: AzureAccount):
    big = new_container(azure, pool=48)
    try:
        started = time.monotonic()
        big.put_many([f"k/{n:06d}.txt" for n in range(BIG)], b"", workers=48)
        made = time.monotonic() - started
        async with AzureBlobStorageSource(azure.config(big.name)) as source:
            await anext(source.get_docs())  # the library's imports, before measuring
        peaks, took = {}, {}
        for limit in (SMALL, BIG):
            started = time.monotonic()
            tracemalloc.start()
            seen = 0
            async with AzureBlobStorageSource(azure.config(big.name)) as source:
                async for _item in source.get_docs():
                    seen += 1
                    if seen == limit:
                        break
            peaks[limit] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            took[limit] = time.monotonic() - started
            assert seen == limit
    finally:
        big.remove()
    print(
        f"\nAzure: {BIG} blobs made in {made:.0f} s; listing peaks "
        f"{ {k: f'{v / 2**20:.1f} MiB in {took[k]:.1f} s' for k, v in peaks.items()} }"
    )
    # ten times the blobs may not need much more memory than a few pages
    assert peaks[BIG] < peaks[SMALL] * 1.5 + 4 * 2**20
