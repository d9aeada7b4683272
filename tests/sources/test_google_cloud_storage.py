"""The `google_cloud_storage` source against the gcp-storage-EMULATOR (real uploads and
downloads, no authentication, no paging), signing in at the FAKE Google token endpoint, and
against `FakeStorage` (a FAKE JSON API, tests/sources/gcs_server.py) where the emulator
cannot answer: 403s, paging, retries, a 50,000-object bucket. Elastic's schema and
documents, the checks of the pasted JSON key, and every error a person can act on."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from sluice.core import extraction
from sluice.core.engine.deletion_guard import GUARD_FIELDS
from sluice.core.engine.source import SourceFailure
from sluice.sources.errors import (
    AuthenticationError,
    HostUnreachableError,
    InsufficientPrivilegesError,
    PathNotFoundError,
    SourceError,
    TLSError,
)
from sluice.sources.google_cloud_storage import GoogleCloudStorageSource
from sluice.sources.google_cloud_storage.credentials import ServiceAccount
from tests.data import documents
from tests.fakes.fake_google_oauth import FakeGoogleOAuth, pkcs8_pem, rsa_key
from tests.fakes.fake_google_oauth import ServiceAccount as Account
from tests.sources import gcs_server
from tests.sources.gcs_server import PROJECT, Emulator, EmulatorBucket, FakeStorage, gcs_config
from tests.sources.helpers import free_port
from tests.sources.items import ERROR, resolve, resolve_all

FIELD = "service_account_credentials"

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


def config_for(
    oauth: FakeGoogleOAuth, account: Account, endpoint: str, buckets: str, **values: Any
) -> dict[str, Any]:
    return gcs_config(oauth.key_json(account), endpoint, buckets, **values)


async def docs_of(config: dict[str, Any], **attributes: Any) -> list[dict[str, Any]]:
    async with GoogleCloudStorageSource(config) as source:
        for name, value in attributes.items():
            setattr(source, name, value)
        return await resolve_all(source.get_docs())


async def validation_error(config: dict[str, Any]) -> SourceError:
    source = GoogleCloudStorageSource(config)
    try:
        with pytest.raises(SourceError) as caught:
            await source.validate_config()
    finally:
        await source.close()
    return caught.value


def by_name(docs: list[Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in docs if isinstance(d, dict)}


# ---------------------------------------------------------------- schema


def test_elastic_keys_first_in_elastic_order_then_sluice_keys():
    schema = GoogleCloudStorageSource.default_configuration()
    # connectors/sources/google_cloud_storage/datasource.py: get_default_configuration
    elastic = {
        "buckets": ("Google Cloud Storage buckets", 1, "list", "textarea", False),
        "service_account_credentials": (
            "Google Cloud service account JSON", 2, "str", "textarea", True,
        ),
        "use_text_extraction_service": ("Use text extraction service", 3, "bool", "toggle", False),
    }  # fmt: skip
    keys = list(schema)
    assert keys[:3] == list(elastic)
    for key, (label, order, kind, display, sensitive) in elastic.items():
        field = schema[key]
        assert (field["label"], field["order"], field["type"]) == (label, order, kind)
        assert (field["display"], field["sensitive"]) == (display, sensitive)
    assert schema["use_text_extraction_service"]["value"] is False
    assert keys[3:] == [
        "endpoint_url", "include_patterns", "exclude_patterns", "extract_text", "max_file_size",
        *GUARD_FIELDS,  # the engine's own settings come last
    ]  # fmt: skip
    orders = [schema[k]["order"] for k in keys]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    assert schema["endpoint_url"]["value"] == "https://storage.googleapis.com"
    assert "advanced" in schema["endpoint_url"]["ui_restrictions"]


def test_a_record_written_for_elastics_service_loads(google_oauth: FakeGoogleOAuth):
    account = google_oauth.add_account()
    record = GoogleCloudStorageSource.default_configuration()
    for key in ("endpoint_url", "include_patterns", "exclude_patterns", "extract_text"):
        record.pop(key)  # what Kibana writes: Elastic's keys only
    record["buckets"]["value"] = ["*"]
    record[FIELD]["value"] = google_oauth.key_json(account)
    source = GoogleCloudStorageSource(record)
    assert source.every_root and source.endpoint == "https://storage.googleapis.com"
    assert source.validation_errors() == {}
    assert source.project == PROJECT and source.email == account.email


def test_the_key_is_masked_and_never_in_repr(google_oauth: FakeGoogleOAuth):
    key_json = google_oauth.key_json(google_oauth.add_account())
    source = GoogleCloudStorageSource(gcs_config(key_json, "http://127.0.0.1:1", "b1b"))
    text = repr(source) + repr(source.account)
    assert "PRIVATE KEY" not in text and json.loads(key_json)["private_key_id"] not in text


# ---------------------------------------------------------------- the pasted JSON key


def key_problem(key_json: str) -> str:
    source = GoogleCloudStorageSource(gcs_config(key_json, "http://127.0.0.1:1", "bucket-a"))
    return source.validation_errors().get(FIELD, "")


def test_key_mistakes_are_named_on_the_key_field_with_what_to_do(
    google_oauth: FakeGoogleOAuth,
):
    account = google_oauth.add_account()
    good = json.loads(google_oauth.key_json(account))
    new_key = "Keys → Add key → Create new key → JSON"

    message = key_problem('{"type": "service_account", "project_id": ')
    assert "is not valid JSON" in message and new_key in message
    message = key_problem(json.dumps({**good, "type": "authorized_user"}))
    assert 'its "type" is "authorized_user", not "service_account"' in message
    assert new_key in message
    message = key_problem(json.dumps({k: v for k, v in good.items() if k != "token_uri"}))
    assert "lacks token_uri" in message and new_key in message
    message = key_problem(json.dumps({k: v for k, v in good.items() if k != "client_email"}))
    assert "lacks client_email" in message
    cut = good["private_key"][:200] + "\n-----END PRIVATE KEY-----\n"
    message = key_problem(json.dumps({**good, "private_key": cut}))
    assert "its private_key does not load" in message and new_key in message
    message = key_problem("[1, 2]")
    assert "not an object" in message
    assert "PRIVATE KEY-----" not in message  # never the key itself
    assert key_problem(json.dumps(good)) == ""


def test_a_key_pasted_on_one_line_or_escaped_is_accepted(google_oauth: FakeGoogleOAuth):
    account = google_oauth.add_account()
    good = json.loads(google_oauth.key_json(account))
    pem = good["private_key"]
    escaped = pem.replace("\n", "\\n")  # the JSON string's escapes, pasted literally
    spaced = " ".join(pem.split("\n")).strip()  # Kibana's single-line form
    for private_key in (escaped, spaced):
        key_json = json.dumps({**good, "private_key": private_key})
        assert key_problem(key_json) == ""
        parsed = ServiceAccount.from_json(key_json)
        assert parsed.key.private_numbers() == rsa_key(0).private_numbers()
    # the whole JSON pasted as a JSON string (escaped once more), as Elastic accepts it
    assert key_problem(json.dumps(json.dumps(good))) == ""


def test_other_local_mistakes_are_named_before_any_request(google_oauth: FakeGoogleOAuth):
    key_json = google_oauth.key_json(google_oauth.add_account())
    errors = GoogleCloudStorageSource(
        gcs_config(key_json, "storage.example.com", "Bad_Bucket,ok-bucket")
    ).validation_errors()
    assert "needs its scheme" in errors["endpoint_url"]
    assert "'Bad_Bucket' is not a bucket name" in errors["buckets"]
    errors = GoogleCloudStorageSource(gcs_config(key_json, "", "")).validation_errors()
    assert errors["buckets"] == "'Google Cloud Storage buckets' is required."


# ---------------------------------------------------------------- documents


async def test_documents_are_elastics_with_text(
    gcs_emulator: Emulator,
    gcs_bucket: EmulatorBucket,
    google_oauth: FakeGoogleOAuth,
    gcs_account: Account,
    tmp_path: Path,
):
    plan = gcs_bucket.put(
        "notes/plan 2027.txt",
        "The plan: rivers and lakes.",
        contentLanguage="de",
        contentEncoding="identity",
        metadata={"team": "hydro"},
    )
    gcs_bucket.put(
        "notes/page.html", "<html><body><p>Hello <b>world</b></p></body></html>", "text/html"
    )
    docx = documents.make_docx(tmp_path / "r.docx", ["Quarterly report about lakes"])
    gcs_bucket.put(
        "reports/report.docx",
        docx.read_bytes(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    gcs_bucket.put("images/logo.png", b"\x89PNG\r\n\x1a\n not text", "image/png")
    gcs_bucket.put("empty-folder/", b"", "application/x-directory")  # the console's folder

    config = config_for(google_oauth, gcs_account, gcs_emulator.url, gcs_bucket.name)
    async with GoogleCloudStorageSource(config) as source:
        docs = by_name(await resolve_all(source.get_docs()))
        assert source.files_read == 3  # the png is not downloaded
    assert set(docs) == {
        "notes/plan 2027.txt", "notes/page.html", "reports/report.docx", "images/logo.png",
    }  # fmt: skip
    doc = docs["notes/plan 2027.txt"]
    assert doc["_id"] == doc["id"] == plan["id"]  # Elastic's id: the API's "bucket/name/gen"
    assert doc["version"] == plan["generation"] and isinstance(doc["version"], str)
    assert doc["size"] == plan["size"] == "27"  # the API's string, as Elastic keeps it
    assert doc["created_at"] == plan["timeCreated"]
    assert doc["last_updated"] == doc["_timestamp"] == plan["updated"]
    assert (doc["content_language"], doc["content_encoding"]) == ("de", "identity")
    assert doc["metadata"] == {"team": "hydro"} and doc["component_count"] is None
    assert (doc["type"], doc["storage_class"]) == ("text/plain", "STANDARD")
    assert doc["bucket_name"] == gcs_bucket.name
    assert doc["url"] == (
        "https://console.cloud.google.com/storage/browser/_details/"
        f"{gcs_bucket.name}/notes%2Fplan%202027.txt;tab=live_object?project={PROJECT}"
    )
    assert doc["store_path"] == f"{gcs_bucket.name}/notes/plan 2027.txt"
    assert doc["body"] == "The plan: rivers and lakes."
    assert docs["notes/page.html"]["body"].strip() == "Hello world"
    assert "Quarterly report about lakes" in docs["reports/report.docx"]["body"]
    assert "body" not in docs["images/logo.png"] and ERROR not in docs["images/logo.png"]
    assert google_oauth.token_requests == 1  # one token for every request


async def test_prefixes_and_globs_on_the_emulator(
    gcs_emulator: Emulator,
    gcs_bucket: EmulatorBucket,
    google_oauth: FakeGoogleOAuth,
    gcs_account: Account,
):
    for name in ("a/one.txt", "a/two.pdf", "a/deep/three.txt", "b/four.txt", "top.txt"):
        gcs_bucket.put(name, f"text of {name}")
    config = config_for(
        google_oauth, gcs_account, gcs_emulator.url, f"{gcs_bucket.name}/a/",
        include_patterns="*.txt", extract_text=False,
    )  # fmt: skip
    docs = by_name(await docs_of(config))
    assert set(docs) == {"a/one.txt", "a/deep/three.txt"}
    config["include_patterns"], config["exclude_patterns"] = "", "deep/**,a/deep/**"
    docs = by_name(await docs_of(config))
    assert set(docs) == {"a/one.txt", "a/two.pdf"}


async def test_pages_are_followed(
    fake_gcs: FakeStorage, google_oauth: FakeGoogleOAuth, gcs_account: Account
):
    fake_gcs.add_bucket("paged")
    names = [f"f{i}.txt" for i in range(7)]
    for name in names:
        fake_gcs.put("paged", name, name.encode())
    docs = await docs_of(config_for(google_oauth, gcs_account, fake_gcs.url, "paged"), page_size=3)
    assert sorted(d["name"] for d in docs) == names
    assert [d["body"] for d in sorted(docs, key=lambda d: d["name"])] == names
    assert fake_gcs.object_requests("paged") == 3  # 3 + 3 + 1


async def test_every_bucket_of_the_project_with_a_star(
    fake_gcs: FakeStorage, google_oauth: FakeGoogleOAuth, gcs_account: Account
):
    for bucket in ("alpha", "beta", "gamma"):
        fake_gcs.add_bucket(bucket)
        fake_gcs.put(bucket, f"in-{bucket}.txt", bucket.encode())
    config = config_for(google_oauth, gcs_account, fake_gcs.url, "*")
    async with GoogleCloudStorageSource(config) as source:
        await source.validate_config()
        assert source.coverage() == "3 buckets"
        docs = await resolve_all(source.get_docs())
    assert sorted((d["bucket_name"], d["body"]) for d in docs) == [
        ("alpha", "alpha"), ("beta", "beta"), ("gamma", "gamma"),
    ]  # fmt: skip


# ---------------------------------------------------------------- tokens and retries


async def test_the_token_is_reused_until_near_its_expiry(
    fake_gcs: FakeStorage, google_oauth: FakeGoogleOAuth, gcs_account: Account
):
    fake_gcs.add_bucket("tokens")
    for i in range(4):
        fake_gcs.put("tokens", f"{i}.txt", b"x")
    config = config_for(google_oauth, gcs_account, fake_gcs.url, "tokens")
    await docs_of(config, page_size=1)  # 4 pages and 4 downloads: 8 requests
    assert google_oauth.token_requests == 1
    google_oauth.token_lifetime = 120  # under the 5-minute margin: never worth keeping
    await docs_of(config, page_size=1)
    assert google_oauth.token_requests == 1 + 8


async def test_a_revoked_token_is_replaced_once(
    fake_gcs: FakeStorage, google_oauth: FakeGoogleOAuth, gcs_account: Account
):
    fake_gcs.add_bucket("revoked")
    fake_gcs.put("revoked", "a.txt", b"a")
    config = config_for(google_oauth, gcs_account, fake_gcs.url, "revoked")
    async with GoogleCloudStorageSource(config) as source:
        await source.validate_config()
        google_oauth.issued.clear()  # Google forgot it: the next request answers 401
        docs = await resolve_all(source.get_docs())
    assert [d["body"] for d in docs] == ["a"]
    assert google_oauth.token_requests == 2


async def test_a_failing_token_endpoint_is_tried_again(
    fake_gcs: FakeStorage, google_oauth: FakeGoogleOAuth, gcs_account: Account
):
    fake_gcs.add_bucket("retry")
    google_oauth.fail_next = [503]
    config = config_for(google_oauth, gcs_account, fake_gcs.url, "retry")
    async with GoogleCloudStorageSource(config) as source:
        await source.validate_config()
    assert google_oauth.token_requests == 2
    google_oauth.fail_next = [500, 500, 500]
    error = await validation_error(config)
    assert "Google's token endpoint failed" in str(error) and error.fields == (FIELD,)


# ---------------------------------------------------------------- errors a person can act on


async def test_a_good_configuration_validates_and_counts_its_buckets(
    gcs_emulator: Emulator,
    gcs_bucket: EmulatorBucket,
    google_oauth: FakeGoogleOAuth,
    gcs_account: Account,
):
    config = config_for(google_oauth, gcs_account, gcs_emulator.url, f"{gcs_bucket.name}/x/")
    async with GoogleCloudStorageSource(config) as source:
        await source.validate_config()
        assert source.coverage() == "1 bucket"


async def test_unreachable_endpoint_and_tls_name_the_endpoint(
    gcs_emulator: Emulator,
    gcs_bucket: EmulatorBucket,
    google_oauth: FakeGoogleOAuth,
    gcs_account: Account,
):
    closed = f"http://127.0.0.1:{free_port()}"
    error = await validation_error(config_for(google_oauth, gcs_account, closed, gcs_bucket.name))
    assert isinstance(error, HostUnreachableError)
    assert f"Nothing answers at {closed}: connection refused" in str(error)
    assert error.fields == ("endpoint_url",)
    https = gcs_emulator.url.replace("http://", "https://")  # the emulator speaks plain HTTP
    error = await validation_error(config_for(google_oauth, gcs_account, https, gcs_bucket.name))
    assert isinstance(error, TLSError) and error.fields == ("endpoint_url",)
    assert "TLS handshake" in str(error)


async def test_unreachable_token_endpoint_names_the_key(
    gcs_emulator: Emulator, google_oauth: FakeGoogleOAuth, gcs_account: Account
):
    port = free_port()
    key_json = google_oauth.key_json(gcs_account, token_uri=f"http://127.0.0.1:{port}/token")
    error = await validation_error(gcs_config(key_json, gcs_emulator.url, "any-bucket"))
    assert isinstance(error, HostUnreachableError) and error.fields == (FIELD,)
    assert "token endpoint 127.0.0.1 (the JSON's token_uri): connection refused" in str(error)


async def test_a_key_google_does_not_know_names_the_key(
    gcs_emulator: Emulator, google_oauth: FakeGoogleOAuth, gcs_account: Account
):
    # a key the account does not have (deleted in the console, or of another account)
    key_json = google_oauth.key_json(gcs_account, key=1)
    error = await validation_error(gcs_config(key_json, gcs_emulator.url, "any-bucket"))
    assert isinstance(error, AuthenticationError) and error.fields == (FIELD,)
    assert "invalid_grant: Invalid JWT Signature." in str(error)
    assert "Create new key → JSON" in str(error)
    # the account's key id, but another private key pasted under it
    other = json.loads(google_oauth.key_json(gcs_account))
    other["private_key"] = pkcs8_pem(rsa_key(1))
    error = await validation_error(gcs_config(json.dumps(other), gcs_emulator.url, "b-b-b"))
    assert isinstance(error, AuthenticationError) and "Invalid JWT Signature." in str(error)


async def test_an_account_google_does_not_know_is_named(
    gcs_emulator: Emulator, google_oauth: FakeGoogleOAuth, gcs_account: Account
):
    gone = "deleted-reader@sluice-project.iam.gserviceaccount.com"
    key_json = google_oauth.key_json(gcs_account, client_email=gone)
    error = await validation_error(gcs_config(key_json, gcs_emulator.url, "any-bucket"))
    assert isinstance(error, AuthenticationError) and error.fields == (FIELD,)
    assert f"Google has no service account {gone}" in str(error)
    assert "account not found" in str(error)


async def test_a_bucket_that_does_not_exist_names_the_buckets_field(
    gcs_emulator: Emulator,
    gcs_bucket: EmulatorBucket,
    google_oauth: FakeGoogleOAuth,
    gcs_account: Account,
):
    config = config_for(
        google_oauth, gcs_account, gcs_emulator.url, f"{gcs_bucket.name},sluice-nowhere-0"
    )
    error = await validation_error(config)
    assert isinstance(error, PathNotFoundError) and error.fields == ("buckets",)
    assert "The bucket 'sluice-nowhere-0' does not exist" in str(error)


async def test_no_permission_to_list_vs_no_permission_to_read(
    fake_gcs: FakeStorage, google_oauth: FakeGoogleOAuth, gcs_account: Account
):
    fake_gcs.add_bucket("open")
    fake_gcs.put("open", "fine.txt", b"fine")
    fake_gcs.put("open", "secret.txt", b"nobody may read this")
    fake_gcs.buckets["open"].read_forbidden.add("secret.txt")
    fake_gcs.add_bucket("closed").list_forbidden = True

    error = await validation_error(config_for(google_oauth, gcs_account, fake_gcs.url, "closed"))
    assert isinstance(error, InsufficientPrivilegesError) and error.fields == ("buckets",)
    assert f"{gcs_account.email} may not list the objects of the bucket 'closed'" in str(error)
    assert "storage.objects.list" in str(error) and "roles/storage.objectViewer" in str(error)

    # while syncing, the bucket that cannot be listed is a failure scoped to it
    config = config_for(google_oauth, gcs_account, fake_gcs.url, "open,closed")
    items = await docs_of(config)
    failures = [i for i in items if isinstance(i, SourceFailure)]
    assert len(failures) == 1 and failures[0].scope is not None
    assert (failures[0].scope.field, failures[0].scope.value) == ("store_path", "closed/")
    assert "may not list the objects of the bucket 'closed'" in failures[0].reason
    # a file that cannot be read is indexed with its metadata, its error beside it
    docs = by_name(items)
    assert docs["fine.txt"]["body"] == "fine"
    assert "body" not in docs["secret.txt"] and docs["secret.txt"]["size"] == "20"
    assert "the service account may not read it (storage.objects.get" in docs["secret.txt"][ERROR]


async def test_star_without_bucket_listing_names_the_permission(
    fake_gcs: FakeStorage, google_oauth: FakeGoogleOAuth, gcs_account: Account
):
    fake_gcs.add_bucket("only-this")
    fake_gcs.buckets_forbidden = True
    named = config_for(google_oauth, gcs_account, fake_gcs.url, "only-this")
    async with GoogleCloudStorageSource(named) as source:
        await source.validate_config()  # named buckets need no bucket listing
    error = await validation_error(config_for(google_oauth, gcs_account, fake_gcs.url, "*"))
    assert isinstance(error, InsufficientPrivilegesError) and error.fields == ("buckets",)
    assert "storage.buckets.list" in str(error) and "which '*' needs" in str(error)
    assert "roles/storage.bucketViewer" in str(error)


async def test_an_object_deleted_after_the_listing_is_its_own_failure(
    gcs_emulator: Emulator,
    gcs_bucket: EmulatorBucket,
    google_oauth: FakeGoogleOAuth,
    gcs_account: Account,
):
    gcs_bucket.put("stays.txt", "stays")
    gcs_bucket.put("goes.txt", "goes")
    config = config_for(google_oauth, gcs_account, gcs_emulator.url, gcs_bucket.name)
    async with GoogleCloudStorageSource(config) as source:
        items = [item async for item in source.get_docs()]  # listed, content not yet read
        gcs_bucket.delete("goes.txt")
        docs = by_name([await resolve(item) for item in items])
    assert docs["stays.txt"]["body"] == "stays"
    assert docs["goes.txt"][ERROR] == f"{gcs_bucket.name}/goes.txt: deleted since it was listed"


async def test_a_bucket_removed_during_a_sync_fails_it(
    fake_gcs: FakeStorage, google_oauth: FakeGoogleOAuth, gcs_account: Account
):
    fake_gcs.add_bucket("vanishing", synthetic=5)
    config = config_for(google_oauth, gcs_account, fake_gcs.url, "vanishing")
    async with GoogleCloudStorageSource(config) as source:
        source.page_size = 2
        seen = 0
        with pytest.raises(PathNotFoundError) as caught:
            async for _ in source.get_docs():
                seen += 1
                fake_gcs.buckets.pop("vanishing", None)
    assert seen == 2 and "The bucket 'vanishing' does not exist" in str(caught.value)


async def test_slow_down_answers_are_retried(
    fake_gcs: FakeStorage, google_oauth: FakeGoogleOAuth, gcs_account: Account
):
    fake_gcs.add_bucket("busy")
    fake_gcs.put("busy", "a.txt", b"a")
    fake_gcs.fail_next = [429, 503]  # the listing, then the download's first try
    docs = await docs_of(config_for(google_oauth, gcs_account, fake_gcs.url, "busy"))
    assert [d["body"] for d in docs] == ["a"] and ERROR not in docs[0]
    assert fake_gcs.failed == 2


# ---------------------------------------------------------------- memory


async def listing_peak(fake: FakeStorage, config: dict[str, Any], count: int) -> tuple[int, float]:
    fake.add_bucket(f"many-{count}", synthetic=count)
    config = {**config, "buckets": f"many-{count}"}
    seen = 0
    async with GoogleCloudStorageSource(config) as source:
        tracemalloc.start()
        started = time.monotonic()
        try:
            async for _ in source.get_docs():
                seen += 1
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        elapsed = time.monotonic() - started
    assert seen == count
    return peak, elapsed


async def test_listing_50k_objects_keeps_memory_flat(
    fake_gcs: FakeStorage, google_oauth: FakeGoogleOAuth, gcs_account: Account
):
    """Paged 1,000 at a time (the API's maximum) by the fake: the peak is a page's worth,
    whatever the bucket's size. (The emulator cannot hold this: it answers every object in
    one page and rewrites its whole store on each upload.)"""
    config = config_for(google_oauth, gcs_account, fake_gcs.url, "")
    small, _ = await listing_peak(fake_gcs, config, 5_000)
    big, elapsed = await listing_peak(fake_gcs, config, 50_000)
    print(
        f"\n50,000 objects listed in {elapsed:.1f} s; tracemalloc peak "
        f"{big / 2**20:.1f} MiB (5,000: {small / 2**20:.1f} MiB)"
    )
    # Buffered, 50,000 documents would weigh ~100 MiB. Paged, the most ever held is a page
    # (~3.5 MiB with the fake's own copy), plus the interpreter's table of interned strings
    # (~2 MiB), rebuilt as names pass through pathlib: once rebuilt, it counts as traced.
    assert big < small + 8 * 2**20, (small, big)
    assert big < 16 * 2**20
