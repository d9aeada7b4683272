"""The source interface: configuration forms, local validation, the engine protocol."""

from __future__ import annotations

import pytest

from sluice.core.engine.source import (
    DocumentSource,
    IncrementalSource,
    SourceDocument,
    SourceFailure,
    advanced_rules_support,
    counting,
    has_lazy_content,
    incremental,
)
from sluice.sources.azure_blob_storage import AzureBlobStorageSource
from sluice.sources.base import (
    advanced_rules,
    folder_scope,
    source_failure,
    with_content,
    with_error,
)
from sluice.sources.directory import DirectorySource
from sluice.sources.errors import ConfigurationError
from sluice.sources.google_cloud_storage import GoogleCloudStorageSource
from sluice.sources.mysql import MySQLSource
from sluice.sources.network_drive import NetworkDriveSource
from sluice.sources.postgresql import PostgreSQLSource
from sluice.sources.s3 import S3Source
from sluice.sources.schema import FIELD_ATTRIBUTES
from sluice.sources.sharepoint_online import SharePointOnlineSource
from tests.sources.plugin_sources import EchoSource

PG_PLAIN = {
    "host": "db.example",
    "port": 5432,
    "username": "reader",
    "password": "s3cr3t-password",
    "database": "shop",
}


@pytest.mark.parametrize(
    "cls",
    [
        DirectorySource,
        PostgreSQLSource,
        MySQLSource,
        SharePointOnlineSource,
        S3Source,
        NetworkDriveSource,
        GoogleCloudStorageSource,
        AzureBlobStorageSource,
    ],
)
def test_default_configuration_entries_are_complete(cls):
    schema = cls.default_configuration()
    orders = [entry["order"] for entry in schema.values()]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    for key, entry in schema.items():
        assert set(entry) == set(FIELD_ATTRIBUTES), key
        assert entry["label"], key
        assert entry["type"] in {"str", "int", "bool", "list"}
    assert cls.service_type and cls.display_name and cls.description and cls.prerequisites


def test_elastic_keys_come_first_and_in_elastic_order():
    pg = list(PostgreSQLSource.get_default_configuration())
    assert pg[:11] == [
        "host", "port", "username", "password", "database", "schema", "tables",
        "fetch_size", "retry_count", "ssl_enabled", "ssl_ca",
    ]  # fmt: skip
    my = list(MySQLSource.get_default_configuration())
    assert my[:10] == [
        "host", "port", "user", "password", "database", "tables",
        "ssl_enabled", "ssl_ca", "fetch_size", "retry_count",
    ]  # fmt: skip
    assert list(DirectorySource.get_default_configuration())[:2] == ["directory", "pattern"]
    assert PostgreSQLSource.get_default_configuration()["password"]["sensitive"] is True
    assert MySQLSource.get_default_configuration()["password"]["sensitive"] is True


def test_plain_configuration_is_merged_with_defaults():
    source = PostgreSQLSource(PG_PLAIN)
    assert source.values["host"] == "db.example"
    assert source.values["schema"] == "public"
    assert source.values["tables"] == ["*"]
    assert source.values["fetch_size"] == 500
    assert source.configuration["password"]["sensitive"] is True


def test_stored_configuration_as_kibana_writes_it():
    """Values as strings, a field unknown to Sluice, entries lacking attributes."""
    stored = PostgreSQLSource.default_configuration()
    stored["host"]["value"] = "db.example"
    stored["port"] = {"label": "Port", "type": "int", "value": "6543"}
    stored["ssl_enabled"]["value"] = "false"
    stored["use_text_extraction_service"] = {"label": "Use service", "type": "bool", "value": False}
    source = PostgreSQLSource(stored)
    assert source.values["port"] == 6543
    assert source.values["ssl_enabled"] is False
    assert "use_text_extraction_service" in source.configuration
    assert source.configuration["port"]["validations"]  # Sluice's rules apply


async def test_validate_config_reports_fields_by_label():
    source = PostgreSQLSource({"host": "", "port": "99999", "ssl_enabled": True})
    with pytest.raises(ConfigurationError) as info:
        await source.validate_config()
    errors = info.value.field_errors
    assert errors["host"] == "'Host' is required."
    assert errors["port"] == "'Port' must be less than 65536 (got 99999)."
    assert errors["username"] == "'Username' is required."
    assert "ssl_ca" not in errors  # optional: empty means the system CAs


def test_repr_masks_secrets():
    text = repr(PostgreSQLSource(PG_PLAIN))
    assert "s3cr3t-password" not in text and "********" in text


def test_sources_satisfy_the_engine_protocol():
    pg = PostgreSQLSource(PG_PLAIN)
    assert isinstance(pg, DocumentSource) and isinstance(pg, IncrementalSource)
    folder = DirectorySource({"directory": "/tmp"})
    assert isinstance(folder, DocumentSource)
    assert not folder.supports_incremental_sync()
    assert not pg.supports_incremental_sync()
    assert PostgreSQLSource(
        {**PG_PLAIN, "modified_column": "updated_at"}
    ).supports_incremental_sync()


def test_capabilities_are_declared_and_asked_through_one_function_each():
    pg = PostgreSQLSource(PG_PLAIN)
    pg_incremental = PostgreSQLSource({**PG_PLAIN, "modified_column": "updated_at"})
    folder = DirectorySource({"directory": "/tmp"})
    echo = EchoSource({})
    assert counting(pg) is pg and counting(folder) is folder and counting(echo) is None
    # the class can, this instance cannot without `modified_column`
    assert incremental(pg) is None and incremental(pg_incremental) is pg_incremental
    assert incremental(folder) is None
    assert advanced_rules_support(pg) is pg and advanced_rules_support(folder) is None
    assert has_lazy_content(folder) and not has_lazy_content(pg)


def test_features_match_elastic_shape():
    assert PostgreSQLSource.features()["sync_rules"]["advanced"]["enabled"] is True
    assert PostgreSQLSource.features()["incremental_sync"]["enabled"] is True
    assert DirectorySource.features()["sync_rules"]["advanced"]["enabled"] is False


def test_advanced_rules_found_in_every_filtering_shape():
    rules = [{"tables": ["t"], "query": "SELECT 1"}]
    snippet = {"value": rules}
    active = {"rules": [], "advanced_snippet": snippet}
    assert advanced_rules(None) is None
    assert advanced_rules(snippet) == rules
    assert advanced_rules(active) == rules
    assert advanced_rules({"domain": "DEFAULT", "active": active, "draft": {}}) == rules
    assert advanced_rules([{"domain": "DEFAULT", "active": active, "draft": {}}]) == rules
    assert advanced_rules({"rules": [], "advanced_snippet": {"value": {}}}) is None


def test_sources_without_advanced_rules_say_so():
    folder = DirectorySource({"directory": "/tmp"})
    assert folder.advanced_rules_validate(None) == []
    assert folder.advanced_rules_validate([{"query": "x"}]) == [
        "Local folder does not support advanced sync rules."
    ]


async def test_document_error_and_content_travel_beside_the_document():
    item = with_error({"_id": "1"}, "broken")
    assert isinstance(item, SourceDocument)
    assert item.document == {"_id": "1"} and item.error == "broken"  # the document untouched

    async def load() -> dict[str, str]:
        return {"body": "text"}

    lazy = with_content({"_id": "2"}, load)
    assert lazy.document == {"_id": "2"} and await lazy.content() == {"body": "text"}
    assert with_error(lazy, "half read") is lazy and lazy.error == "half read"


async def test_context_manager_closes():
    async with EchoSource({}) as source:
        assert [d["_id"] async for d in source.get_docs()] == ["echo-0", "echo-1"]


def test_folder_scope_covers_the_folder_and_nothing_beside_it():
    scope = folder_scope("docs/closed")
    assert scope.covers({"relative_path": "docs/closed/deep/a.txt"}) is True
    assert scope.covers({"relative_path": "docs/closedx/a.txt"}) is False  # only a name alike
    assert scope.covers({"title": "no path"}) is None  # nobody can tell: the engine keeps it
    assert folder_scope("").covers({"relative_path": "any.txt"}) is True  # the root: all
    record = source_failure("/srv/docs/closed", "cannot list", "list", scope)
    assert record == SourceFailure("/srv/docs/closed", "cannot list", "list", scope)
    assert source_failure("x", "why").scope is None
