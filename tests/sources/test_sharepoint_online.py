"""The `sharepoint_online` source against the FAKE Microsoft cloud (tests/fakes): Elastic's
schema, every sign-in and permission error on its field, Elastic's document shapes, delta
incremental syncs, throttling, advanced rules, and flat memory on a 100k-item library."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from sluice.core.engine.progress import SourceWaiting
from sluice.core.engine.source import Operation, SourceDocument, SourceNotice
from sluice.sources.errors import (
    AuthenticationError,
    ConfigurationError,
    HostUnreachableError,
    InsufficientPrivilegesError,
    SourceError,
)
from sluice.sources.sharepoint_online import SharePointOnlineSource
from sluice.sources.sharepoint_online.problems import (
    NoAdminConsentError,
    SiteNotFoundError,
    ThrottledTooLongError,
)
from tests.fakes.fake_microsoft import certificate_pair
from tests.sources.items import ERROR, resolve
from tests.sources.sharepoint_tenant import FakeTenant, shared_certificate

ELASTIC_SCHEMA = Path(__file__).parents[1] / "fakes" / "schemas" / "sharepoint_online.json"
CLOSED_PORT = "http://127.0.0.1:9"


async def documents(source: SharePointOnlineSource) -> list[dict[str, Any]]:
    return [await resolve(item) async for item in source.get_docs()]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("object_type") == kind]


async def error_of(config: dict[str, Any]) -> SourceError:
    source = SharePointOnlineSource(config)
    try:
        with pytest.raises(SourceError) as caught:
            await source.validate_config()
    finally:
        await source.close()
    return caught.value


# ---------------------------------------------------------------- schema


def test_elastic_keys_load_with_elastic_order_types_defaults_and_sensitivity():
    elastic = json.loads(ELASTIC_SCHEMA.read_text())
    ours = SharePointOnlineSource.default_configuration()
    for key, field in elastic.items():
        mine = ours[key]
        for attribute in ("label", "order", "type", "display", "sensitive", "depends_on"):
            assert mine[attribute] == field[attribute], (key, attribute)
        assert mine["value"] == field["value"], key
        assert mine["required"] is True, key
    extra = [k for k in ours if k not in elastic]
    assert min(ours[k]["order"] for k in extra) > max(f["order"] for f in elastic.values())
    # a record written by Kibana for Elastic's service loads as is
    source = SharePointOnlineSource(elastic)
    assert source.values["site_collections"] == ["*"] and source.auth_method == "secret"


def test_document_level_security_is_refused_in_the_form_with_what_to_do(spo: FakeTenant):
    source = SharePointOnlineSource(spo.config(use_document_level_security=True))
    message = source.validation_errors()["use_document_level_security"]
    assert "does not apply document level security" in message
    assert "Elastic's connector service" in message


def test_certificate_problems_are_found_before_any_request(spo: FakeTenant):
    errors = SharePointOnlineSource(spo.config(certificate="not a cert")).validation_errors()
    assert "not a PEM certificate" in errors["certificate"]
    _, foreign_key = certificate_pair("another")
    errors = SharePointOnlineSource(spo.config(private_key=foreign_key)).validation_errors()
    assert "does not belong to the certificate" in errors["private_key"]
    # Kibana's single-line form (spaces for newlines) is accepted
    one_line = " ".join(shared_certificate()[0].splitlines())
    assert SharePointOnlineSource(spo.config(certificate=one_line)).validation_errors() == {}


def test_tenant_name_may_be_pasted_as_an_address(spo: FakeTenant):
    source = SharePointOnlineSource(spo.config(tenant_name="https://Contoso.sharepoint.com/"))
    assert source.tenant_name == "contoso"
    bad = SharePointOnlineSource(spo.config(tenant_name="contoso corp"))
    assert "is not a tenant name" in bad.validation_errors()["tenant_name"]


# ---------------------------------------------------------------- errors a person can act on


@pytest.mark.parametrize("auth", ["secret", "certificate"])
async def test_a_good_configuration_validates_and_counts_what_a_sync_covers(
    spo: FakeTenant, auth: str
):
    source = SharePointOnlineSource(spo.config(auth))
    try:
        await source.validate_config()
        counts = await source.check_sites()
    finally:
        await source.close()
    assert counts == {"sites": 2, "libraries": 2, "lists": 1}


async def test_unknown_tenant_id_is_named_with_its_aadsts_code(spo: FakeTenant):
    error = await error_of(spo.config(tenant_id="00000000-0000-0000-0000-000000000000"))
    assert isinstance(error, AuthenticationError) and error.fields == ("tenant_id",)
    assert "AADSTS90002" in str(error) and "Directory (tenant) ID" in str(error)


async def test_malformed_ids_are_named_before_any_request(spo: FakeTenant):
    errors = SharePointOnlineSource(
        spo.config(tenant_id="not a tenant", client_id="s3cret~value")
    ).validation_errors()
    assert "Directory (tenant) ID" in errors["tenant_id"]
    assert "Application (client) ID" in errors["client_id"]
    domain = SharePointOnlineSource(spo.config(tenant_id="contoso.onmicrosoft.com"))
    assert domain.validation_errors() == {}
    # one Microsoft itself refuses: its code, on the field
    error = await error_of(spo.config(tenant_id="contoso.123"))
    assert isinstance(error, ConfigurationError)
    assert "AADSTS900023" in error.field_errors["tenant_id"]


async def test_app_not_in_the_tenant(spo: FakeTenant):
    error = await error_of(spo.config(client_id="11111111-2222-3333-4444-555555555555"))
    assert error.fields == ("client_id",) and "AADSTS700016" in str(error)
    assert "No app with Client ID" in str(error)


async def test_wrong_secret_says_value_not_id(spo: FakeTenant):
    error = await error_of(spo.config("secret", secret_value="the-secret-id-not-its-value"))
    assert error.fields == ("secret_value",) and "AADSTS7000215" in str(error)
    assert "not its Secret ID" in str(error)
    assert "the-secret-id-not-its-value" not in str(error)


async def test_expired_secret(spo: FakeTenant):
    spo.fake.add_app(spo.tenant, secret="old-secret", secret_expires=time.time() - 60)
    app = list(spo.tenant.apps.values())[-1]
    error = await error_of(spo.config("secret", client_id=app.client_id, secret_value="old-secret"))
    assert error.fields == ("secret_value",) and "AADSTS7000222" in str(error)
    assert "expired" in str(error)


async def test_certificate_not_uploaded_to_the_app(spo: FakeTenant):
    cert, key = certificate_pair("not-uploaded")
    error = await error_of(spo.config(certificate=cert, private_key=key))
    assert error.fields == ("certificate",) and "AADSTS700027" in str(error)
    assert "Upload this certificate" in str(error)


async def test_tenant_name_of_another_tenant(spo: FakeTenant):
    error = await error_of(spo.config("secret", tenant_name="fabrikam"))
    assert error.fields == ("tenant_name",) and "AADSTS500011" in str(error)
    assert "fabrikam.sharepoint.com" in str(error)


async def test_missing_admin_consent_gives_the_consent_url(spo: FakeTenant):
    spo.app.consented = False
    error = await error_of(spo.config())
    assert isinstance(error, NoAdminConsentError) and error.fields == ("client_id",)
    url = f"{spo.fake.url}/{spo.tenant.id}/adminconsent?client_id={spo.app.client_id}"
    assert url in str(error)


async def test_missing_permission_is_named(spo: FakeTenant):
    spo.app.graph_roles = {"Files.Read.All"}  # no Sites.Read.All
    error = await error_of(spo.config())
    assert isinstance(error, InsufficientPrivilegesError)
    assert "'Sites.Read.All'" in str(error) and "Microsoft Graph" in str(error)


async def test_a_configured_site_that_does_not_exist(spo: FakeTenant):
    error = await error_of(spo.config(site_collections="marketing,nowhere"))
    assert isinstance(error, SiteNotFoundError) and error.fields == ("site_collections",)
    assert "nowhere" in str(error) and "marketing" not in str(error).split(":")[1]
    by_path = await error_of(spo.config(site_collections="sites/gone", enumerate_all_sites=False))
    assert "sites/gone" in str(by_path)


async def test_unreachable_cloud_is_named_quickly(spo: FakeTenant):
    started = time.monotonic()
    error = await error_of(spo.config(login_endpoint=CLOSED_PORT, graph_endpoint=CLOSED_PORT))
    assert isinstance(error, HostUnreachableError) and "127.0.0.1" in str(error)
    assert error.fields == ("cloud",)
    assert time.monotonic() - started < 5  # a refused connection: two quick tries


# ---------------------------------------------------------------- documents


async def test_documents_keep_elastic_ids_kinds_and_fields(spo: FakeTenant):
    async with SharePointOnlineSource(spo.config()) as source:
        docs = await documents(source)
    kinds = {d["object_type"] for d in docs}
    assert kinds == {
        "site_collection", "site", "site_drive", "drive_item", "site_list", "list_item",
        "list_item_attachment", "site_page",
    }  # fmt: skip
    site = by_kind(docs, "site")[0]
    assert site["_id"] == site["id"] and site["_id"].startswith("contoso.sharepoint.com,")
    item = next(d for d in by_kind(docs, "list_item") if d["fields"]["Title"] == "Write the plan")
    assert item["_id"] == f"{spo.tasks.id}-1" and item["id"] == item["_id"]
    page = next(d for d in by_kind(docs, "site_page") if d["Title"] == "Home")
    marketing = next(s for s in by_kind(docs, "site") if s["name"] == "marketing")
    assert page["_id"] == f"{marketing['id']}-site_page-1"
    assert "Marketing news" in page["CanvasContent1"] and "<b>" not in page["body"]
    files = {d["name"]: d for d in by_kind(docs, "drive_item")}
    assert files["plan.txt"]["body"].startswith("The marketing plan")
    assert files["Übersicht.html"]["body"] == "Grüße aus Köln"
    assert "body" not in files["logo.png"] and "body" not in files["Archive"]
    attachment = by_kind(docs, "list_item_attachment")[0]
    assert attachment["body"] == "attachment about lakes"
    assert attachment["webUrl"].endswith("/sites/marketing/Lists/Tasks/Attachments/1/notes.txt")
    for doc in docs:
        json.dumps(doc)
        assert isinstance(doc["_timestamp"], str) and ERROR not in doc


async def test_sites_by_path_with_and_without_their_sub_sites(spo: FakeTenant):
    emea = spo.fake.add_site(spo.tenant, "emea", parent=spo.site)
    spo.fake.add_site(spo.tenant, "paris", parent=emea)
    by_path = {"site_collections": "sites/marketing", "enumerate_all_sites": False}
    async with SharePointOnlineSource(spo.config(**by_path)) as source:
        sites = {d["name"] for d in by_kind(await documents(source), "site")}
    assert sites == {"marketing", "emea", "paris"}  # sub-sites of sub-sites too
    async with SharePointOnlineSource(spo.config(**by_path, fetch_subsites=False)) as source:
        sites = {d["name"] for d in by_kind(await documents(source), "site")}
    assert sites == {"marketing"}


async def test_with_a_secret_pages_and_attachments_are_left_out_with_a_notice(spo: FakeTenant):
    heard: list[Any] = []
    async with SharePointOnlineSource(spo.config("secret")) as source:
        source.watch(heard.append)
        docs = await documents(source)
    assert not by_kind(docs, "site_page") and not by_kind(docs, "list_item_attachment")
    assert by_kind(docs, "list_item") and by_kind(docs, "drive_item")
    notices = [e.text for e in heard if isinstance(e, SourceNotice)]
    assert len(notices) == 1 and "certificates only" in notices[0]


async def test_a_file_over_the_size_limit_is_indexed_without_its_text(spo: FakeTenant):
    spo.fake.add_file(spo.drive, "big.txt", b"x" * 5000)
    async with SharePointOnlineSource(spo.config(max_file_size=1000)) as source:
        files = {d["name"]: d for d in by_kind(await documents(source), "drive_item")}
    assert "body" not in files["big.txt"] and files["big.txt"]["size"] == 5000
    assert "body" in files["plan.txt"]


async def test_expired_download_addresses_fall_back_to_graph(spo: FakeTenant):
    async with SharePointOnlineSource(spo.config()) as source:
        items = [item async for item in source.get_docs()]
        spo.fake.expire_download_urls()
        docs = [await resolve(item) for item in items]
    files = {d["name"]: d for d in by_kind(docs, "drive_item")}
    assert files["plan.txt"]["body"].startswith("The marketing plan")
    assert any("/content" in target for _, target in spo.fake.requests)


async def test_files_are_read_through_their_download_address(spo: FakeTenant):
    async with SharePointOnlineSource(spo.config()) as source:
        await documents(source)
    assert not any(target.endswith("/content") for _, target in spo.fake.requests)
    assert any(target.startswith("/_download/") for _, target in spo.fake.requests)


async def test_the_count_for_progress_is_close_to_what_a_sync_yields(spo: FakeTenant):
    async with SharePointOnlineSource(spo.config()) as source:
        estimate = await source.count_documents()
        yielded = len(await documents(source))
    assert estimate is not None and abs(estimate - yielded) <= 3, (estimate, yielded)
    async with SharePointOnlineSource(spo.config("secret")) as source:
        assert await source.count_documents() is None  # no REST API with a secret


# ---------------------------------------------------------------- incremental


async def test_incremental_sync_reads_only_changes_through_delta_links(spo: FakeTenant):
    source = SharePointOnlineSource(spo.config())
    try:
        await documents(source)
        cursor = source.sync_cursor
        assert set(cursor) == {"site_drives", "cursor_timestamp"}
        assert len(cursor["site_drives"]) == 2
        plan = next(i for i in spo.drive.items.values() if i.name == "plan.txt")
        logo = next(i for i in spo.drive.items.values() if i.name == "logo.png")
        spo.fake.change_file(spo.drive, plan, b"A new plan.")
        spo.fake.delete_file(spo.drive, logo)
        added = spo.fake.add_file(spo.drive, "new.txt", b"brand new")
        pairs = [
            (await resolve(item), op) async for item, op in source.get_docs_incrementally(cursor)
        ]
    finally:
        await source.close()
    files = {d["_id"]: (d, op) for d, op in pairs if d.get("object_type") in ("drive_item", None)}
    assert files[plan.id][0]["body"] == "A new plan." and files[plan.id][1] is Operation.INDEX
    assert files[logo.id] == ({"_id": logo.id}, Operation.DELETE)
    assert files[added.id][1] is Operation.INDEX
    assert len(files) == 3  # nothing else of the libraries was read again
    assert source.sync_cursor["site_drives"] != cursor["site_drives"]


async def test_an_expired_delta_link_reads_the_library_again_with_a_notice(spo: FakeTenant):
    heard: list[Any] = []
    source = SharePointOnlineSource(spo.config())
    source.watch(heard.append)
    try:
        await documents(source)
        spo.fake.expire_delta_tokens(spo.drive)
        pairs = [pair async for pair in source.get_docs_incrementally(source.sync_cursor)]
    finally:
        await source.close()
    names = {
        (item.document if isinstance(item, SourceDocument) else item).get("name")
        for item, _ in pairs
    }
    assert {"plan.txt", "logo.png", "old.txt"} <= names
    assert any(isinstance(e, SourceNotice) and "had expired" in e.text for e in heard)


async def test_incremental_without_a_cursor_asks_for_a_full_sync(spo: FakeTenant):
    async with SharePointOnlineSource(spo.config()) as source:
        with pytest.raises(SourceError, match="Run a full sync first"):
            [pair async for pair in source.get_docs_incrementally(None)]


# ---------------------------------------------------------------- throttling


async def test_throttling_waits_as_told_and_reports_the_wait(spo: FakeTenant):
    heard: list[Any] = []
    spo.fake.throttle_next(3, retry_after=1)
    started = time.monotonic()
    async with SharePointOnlineSource(spo.config()) as source:
        source.watch(heard.append)
        docs = await documents(source)
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    assert by_kind(docs, "drive_item") and spo.fake.throttled == 3
    waits = [e for e in heard if isinstance(e, SourceWaiting)]
    assert waits and "throttled by Microsoft (HTTP 429)" in waits[0].message()
    assert "resuming in" in waits[0].message()
    assert heard[-1] is None or isinstance(heard[-1], SourceNotice)  # the wait ended


async def test_a_throttled_sign_in_waits_and_signs_in(spo: FakeTenant):
    spo.fake.throttle_next(2, retry_after=1, tokens=True)
    async with SharePointOnlineSource(spo.config()) as source:
        await source.validate_config()
    assert spo.fake.throttled == 2
    # each try carried a fresh assertion (they expire)
    assertions = [r["client_assertion"] for r in spo.fake.token_requests]
    assert len(set(assertions)) == len(assertions)


async def test_503_with_retry_after_is_throttling_too(spo: FakeTenant):
    spo.fake.throttle_next(2, retry_after=1, status=503)
    async with SharePointOnlineSource(spo.config()) as source:
        docs = await documents(source)
    assert by_kind(docs, "site_page")


async def test_a_throttling_storm_past_the_limit_fails_with_the_field_to_change(
    spo: FakeTenant,
):
    spo.fake.storm(seconds=600, retry_after=90)
    async with SharePointOnlineSource(spo.config(max_throttle_minutes=1)) as source:
        with pytest.raises(ThrottledTooLongError) as caught:
            await documents(source)
    assert caught.value.fields == ("max_throttle_minutes",)
    assert "past the limit of 1 min" in str(caught.value)


# ---------------------------------------------------------------- advanced rules


def test_advanced_rules_are_checked(spo: FakeTenant):
    source = SharePointOnlineSource(spo.config())
    assert source.advanced_rules_validate({"skipExtractingDriveItemsOlderThan": 60}) == []
    assert "unknown key" in source.advanced_rules_validate({"skipFolders": 1})[0]
    assert (
        "whole number"
        in source.advanced_rules_validate({"skipExtractingDriveItemsOlderThan": "60"})[0]
    )


async def test_skip_extracting_old_files_keeps_their_metadata(spo: FakeTenant):
    old = next(i for i in spo.drive.items.values() if i.name == "plan.txt")
    old.modified = time.time() - 90 * 86400
    filtering = {"advanced_snippet": {"value": {"skipExtractingDriveItemsOlderThan": 30}}}
    async with SharePointOnlineSource(spo.config()) as source:
        items = [await resolve(i) async for i in source.get_docs(filtering)]
    files = {d["name"]: d for d in by_kind(items, "drive_item")}
    assert "body" not in files["plan.txt"] and "body" in files["Übersicht.html"]


# ---------------------------------------------------------------- memory


async def test_a_100k_item_library_streams_with_flat_memory(spo: FakeTenant):
    big = spo.fake.add_drive(spo.site, "Archive 2020")
    spo.fake.add_synthetic_files(big, 100_000)
    process = psutil.Process()
    count = baseline = peak = 0
    started = asyncio.get_running_loop().time()
    async with SharePointOnlineSource(
        spo.config(site_collections="marketing", extract_text=False)
    ) as source:
        async for _item in source.get_docs():
            count += 1
            if count == 2_000:
                baseline = peak = process.memory_info().rss
            elif count % 10_000 == 0:
                peak = max(peak, process.memory_info().rss)
    elapsed = asyncio.get_running_loop().time() - started
    growth = (peak - baseline) / 2**20
    print(f"\nsharepoint_online: {count} items in {elapsed:.1f}s, RSS growth {growth:.1f} MiB")
    assert count > 100_000
    # 100k drive items are ~100 MiB as Python dicts: holding them would far exceed this.
    assert growth < 30, f"RSS grew by {growth:.1f} MiB while streaming"
