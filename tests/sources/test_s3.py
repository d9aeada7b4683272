"""The `s3` source against a real S3 server (SeaweedFS's gateway, which checks signatures;
or the store SLUICE_S3_URL names): documents, paging, prefixes, globs, rules and every
error a person can act on."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from pathlib import Path

import pytest

from sluice.core import extraction
from sluice.sources.errors import (
    AuthenticationError,
    ConfigurationError,
    HostUnreachableError,
    InsufficientPrivilegesError,
    PathNotFoundError,
    TLSError,
)
from sluice.sources.filetree.source import Unlisted
from sluice.sources.s3 import S3Source
from tests.data import documents
from tests.sources.items import ERROR, resolve_all
from tests.sources.s3_server import Bucket, S3Server, closed_port_url, new_bucket


@pytest.fixture(scope="module", autouse=True)
def stop_pool_after_module():
    yield
    extraction.shutdown()


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


async def docs_of(config: dict) -> list[dict]:
    async with S3Source(config) as source:
        return await resolve_all(source.get_docs())


async def failure_of(config: dict) -> Exception:
    source = S3Source(config)
    try:
        await source.validate_config()
    except Exception as exc:
        return exc
    finally:
        await source.close()
    raise AssertionError("validate_config() accepted the configuration")


def test_elastic_keys_first_in_elastic_order_then_sluice_keys():
    schema = S3Source.get_default_configuration()
    assert list(schema)[:8] == [
        "buckets", "aws_access_key_id", "aws_secret_access_key", "read_timeout",
        "connect_timeout", "max_attempts", "page_size", "use_text_extraction_service",
    ]  # fmt: skip
    assert list(schema)[8:10] == ["endpoint_url", "region"]
    assert schema["aws_secret_access_key"]["sensitive"] is True
    assert schema["page_size"]["default_value"] == 100
    assert S3Source.default_configuration()["buckets"]["type"] == "list"


async def test_documents_have_elastic_ids_and_fields_and_text(
    s3_server: S3Server, bucket: Bucket, tmp_path: Path
):
    bucket.put("notes/plan.txt", "The plan: rivers and mountains.")
    bucket.put("notes/page.html", "<html><body><p>Hello <b>world</b></p></body></html>")
    docx = documents.make_docx(tmp_path / "report.docx", ["Quarterly report about lakes"])
    bucket.put("reports/report.docx", docx.read_bytes())
    bucket.put("images/logo.png", b"\x89PNG not really")
    bucket.put("folder/", b"")  # a console "folder" marker: not a file
    docs = {d["filename"]: d for d in await docs_of(s3_server.config(bucket.name))}
    assert set(docs) == {
        "notes/plan.txt",
        "notes/page.html",
        "reports/report.docx",
        "images/logo.png",
    }
    plan = docs["notes/plan.txt"]
    assert plan["_id"] == md5(f"{bucket.name}/notes/plan.txt") == plan["id"]
    assert plan["bucket"] == bucket.name
    assert plan["size_in_bytes"] == len("The plan: rivers and mountains.")
    assert plan["storage_class"] == "STANDARD"
    assert plan["_timestamp"].endswith("+00:00")
    assert plan["store_path"] == f"{bucket.name}/notes/plan.txt"
    assert plan["body"] == "The plan: rivers and mountains."
    assert "Hello world" in docs["notes/page.html"]["body"]
    assert "Quarterly report about lakes" in docs["reports/report.docx"]["body"]
    assert "body" not in docs["images/logo.png"]  # no text to extract: never downloaded
    assert ERROR not in plan
    json.dumps(list(docs.values()))


async def test_pages_prefixes_and_globs(s3_server: S3Server, bucket: Bucket):
    keys = [f"a/{n}.txt" for n in range(5)] + ["b/1.txt", "b/skip.tmp", "c/d/deep.md"]
    bucket.put_many(keys, b"text")
    listed = await docs_of(s3_server.config(bucket.name, page_size=2, extract_text=False))
    assert sorted(d["filename"] for d in listed) == sorted(keys)
    under_a = await docs_of(s3_server.config(f"{bucket.name}/a/", extract_text=False))
    assert sorted(d["filename"] for d in under_a) == [f"a/{n}.txt" for n in range(5)]
    chosen = await docs_of(
        s3_server.config(
            bucket.name,
            include_patterns="*.txt,c/**",
            exclude_patterns="a/0.txt",
            extract_text=False,
        )
    )
    assert sorted(d["filename"] for d in chosen) == [
        "a/1.txt", "a/2.txt", "a/3.txt", "a/4.txt", "b/1.txt", "c/d/deep.md",
    ]  # fmt: skip


async def test_every_bucket_with_a_star(s3_server: S3Server, bucket: Bucket):
    other = new_bucket(s3_server)
    try:
        bucket.put("one.txt", "1")
        other.put("two.txt", "2")
        source = S3Source(s3_server.config("*", extract_text=False))
        try:
            await source.validate_config()
            names = {root.name for root in await source.all_roots()}
        finally:
            await source.close()
        assert {bucket.name, other.name} <= names
    finally:
        other.empty()
        other.admin.delete_bucket(Bucket=other.name)


async def test_advanced_rules_pick_buckets_prefixes_and_extensions(
    s3_server: S3Server, bucket: Bucket
):
    bucket.put_many(["x/a.pdf", "x/b.txt", "y/c.txt"], b"t")
    source = S3Source(s3_server.config("ignored-bucket", extract_text=False))
    rules = [{"bucket": bucket.name, "prefix": "x/", "extension": [".txt"]}]
    assert source.advanced_rules_validate(rules) == []
    assert source.advanced_rules_validate([{"prefix": "x/"}]) == [
        "Rule 1: 'bucket' must be a bucket name."
    ]
    assert "unknown key(s) bukket" in source.advanced_rules_validate([{"bukket": "b"}])[0]
    filtering = {"advanced_snippet": {"value": rules}}
    try:
        docs = await resolve_all(source.get_docs(filtering))
    finally:
        await source.close()
    assert [d["filename"] for d in docs] == ["x/b.txt"]


# ---------------------------------------------------------------- errors


async def test_wrong_secret_names_the_secret_field(s3_server: S3Server, bucket: Bucket):
    error = await failure_of(s3_server.config(bucket.name, aws_secret_access_key="wrong-secret"))
    assert isinstance(error, AuthenticationError)
    assert list(error.field_errors) == ["aws_secret_access_key"]
    assert "secret key does not match" in str(error)
    assert "wrong-secret" not in str(error)


async def test_unknown_access_key_names_the_key_field(s3_server: S3Server, bucket: Bucket):
    error = await failure_of(s3_server.config(bucket.name, aws_access_key_id="AKIANOBODY"))
    assert isinstance(error, AuthenticationError)
    assert list(error.field_errors) == ["aws_access_key_id"]
    assert "does not know the access key id" in str(error)


async def test_missing_bucket_names_the_buckets_field(s3_server: S3Server):
    error = await failure_of(s3_server.config("sluice-no-such-bucket-4711"))
    assert isinstance(error, PathNotFoundError)
    assert list(error.field_errors) == ["buckets"]
    assert "'sluice-no-such-bucket-4711' does not exist" in str(error)


async def test_unreachable_endpoint_and_tls_name_the_endpoint(s3_server: S3Server, bucket: Bucket):
    error = await failure_of(
        s3_server.config(bucket.name, endpoint_url=closed_port_url(), max_attempts=1)
    )
    assert isinstance(error, HostUnreachableError)
    assert list(error.field_errors) == ["endpoint_url"]
    https = s3_server.url.replace("http://", "https://")
    error = await failure_of(s3_server.config(bucket.name, endpoint_url=https, max_attempts=1))
    assert isinstance(error, TLSError)
    assert list(error.field_errors) == ["endpoint_url"]


async def test_local_mistakes_are_named_before_any_request(s3_server: S3Server):
    error = await failure_of(s3_server.config("My_Bucket", endpoint_url="minio.local:9000"))
    assert isinstance(error, ConfigurationError)
    assert "needs its scheme" in error.field_errors["endpoint_url"]
    assert "'AWS Buckets': 'My_Bucket' is not a bucket name" in error.field_errors["buckets"]
    error = await failure_of(s3_server.config(" , ", include_patterns="*.[pdf"))
    assert error.field_errors["buckets"] == "'AWS Buckets' is required."
    assert "unclosed '['" in error.field_errors["include_patterns"]


async def test_no_permission_to_list_vs_no_permission_to_read(s3_server: S3Server, bucket: Bucket):
    bucket.put("secret.txt", "classified")
    access, secret = s3_server.keys("nolist")
    config = s3_server.config(bucket.name, aws_access_key_id=access, aws_secret_access_key=secret)
    error = await failure_of(config)
    assert isinstance(error, InsufficientPrivilegesError)
    assert list(error.field_errors) == ["buckets"]
    assert "may not list the bucket" in str(error) and "s3:ListBucket" in str(error)
    async with S3Source(config) as source:
        listed = [item async for item in source.list_files(source.roots[0])]
    assert len(listed) == 1 and isinstance(listed[0], Unlisted)

    access, secret = s3_server.keys("noread")
    config = s3_server.config(bucket.name, aws_access_key_id=access, aws_secret_access_key=secret)
    docs = await docs_of(config)  # listing works; reading the object does not
    assert [d["filename"] for d in docs] == ["secret.txt"]
    assert "may not read it (allow s3:GetObject" in docs[0][ERROR]
    assert "body" not in docs[0]


async def test_listing_fifty_thousand_objects_keeps_memory_flat(s3_server: S3Server):
    """Made once per server (the bucket is kept: filling it takes ~40 s here)."""
    big = Bucket(s3_server, "sluice-test-fifty-thousand")
    count = 50_000
    try:
        big.admin.create_bucket(Bucket=big.name)
    except Exception:  # kept from an earlier run
        pass
    last = f"k/{count - 1:06d}.txt"
    present = big.admin.list_objects_v2(Bucket=big.name, Prefix=last).get("KeyCount")
    beyond = big.admin.list_objects_v2(Bucket=big.name, StartAfter=last).get("KeyCount")
    if not present or beyond:
        big.empty()
        big.fill([f"k/{n:06d}.txt" for n in range(count)])
    peaks = {}
    for limit in (5_000, count):
        tracemalloc.start()
        seen = 0
        async with S3Source(s3_server.config(big.name, page_size=1000)) as source:
            async for _item in source.get_docs():
                seen += 1
                if seen == limit:
                    break
        peaks[limit] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert seen == limit
    print(f"\nS3 listing peaks: { {k: f'{v / 2**20:.1f} MiB' for k, v in peaks.items()} }")
    # ten times the objects may not need much more memory than a few pages
    assert peaks[count] < peaks[5_000] * 1.5 + 4 * 2**20
