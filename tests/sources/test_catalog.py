"""The catalog a user picks a source type from: Sluice's sources and every type of Elastic's
connector service, each saying who runs it, grouped by category."""

from __future__ import annotations

import pytest

from sluice.sources.elastic_catalog import CATEGORIES, ELASTIC_TYPES
from sluice.sources.registry import (
    BUILT_IN,
    find_source,
    runs_in_sluice,
    source_catalog,
)

DOCS = "https://www.elastic.co/docs/reference/search-connectors/"
ECHO = {"echo": "tests.sources.plugin_sources:EchoSource"}
# As in Elastic's config.yml.example: classes that only exist in Elastic's service.
ELASTIC_SOURCES = {
    "dir": "connectors.sources.directory:DirectoryDataSource",
    "mysql": "connectors.sources.mysql:MySqlDataSource",
    "postgresql": "connectors.sources.postgresql:PostgreSQLDataSource",
    "mongodb": "connectors.sources.mongo:MongoDataSource",
    "confluence": "connectors.sources.confluence:ConfluenceDataSource",
}
#: Elastic's connector service 9.6, its `sources:` map.
ELASTIC_SERVICE_TYPES = {
    "azure_blob_storage",
    "box",
    "confluence",
    "dir",
    "dropbox",
    "github",
    "gitlab",
    "gmail",
    "google_cloud_storage",
    "google_drive",
    "graphql",
    "jira",
    "microsoft_teams",
    "mongodb",
    "mssql",
    "mysql",
    "network_drive",
    "notion",
    "onedrive",
    "oracle",
    "outlook",
    "postgresql",
    "redis",
    "s3",
    "salesforce",
    "sandfly",
    "servicenow",
    "sharepoint_online",
    "sharepoint_server",
    "slack",
    "zoom",
}


def by_type(catalog):
    return {info.service_type: info for info in catalog}


def test_elastic_catalog_has_the_31_types_of_elastics_service_once_each():
    types = [entry.service_type for entry in ELASTIC_TYPES]
    assert len(types) == 31
    assert len(set(types)) == 31
    assert set(types) == ELASTIC_SERVICE_TYPES


def test_catalog_is_elastics_types_plus_sluices_each_once():
    catalog = source_catalog()
    types = [info.service_type for info in catalog]
    assert len(types) == len(set(types))
    assert set(types) == ELASTIC_SERVICE_TYPES | set(BUILT_IN)


@pytest.mark.parametrize(
    "service_type",
    [
        "dir",
        "postgresql",
        "mysql",
        "sharepoint_online",
        "s3",
        "network_drive",
        "google_cloud_storage",
        "azure_blob_storage",
    ],
)
def test_sluices_own_types_are_run_by_sluice(service_type):
    info = by_type(source_catalog())[service_type]
    assert info.runner == "sluice"
    assert info.origin == "built-in"
    assert info.class_path == BUILT_IN[service_type]
    assert info.runner_label == "run by Sluice"


@pytest.mark.parametrize("service_type", ["confluence", "sharepoint_server", "gmail", "jira"])
def test_the_others_are_run_by_elastics_service(service_type):
    info = by_type(source_catalog())[service_type]
    assert info.runner == "elastic"
    assert info.origin == "elastic"
    assert info.class_path == ""
    assert info.runner_label == "run by Elastic's connector service"


def test_every_entry_has_a_category_a_docs_page_and_what_to_prepare():
    for info in source_catalog():
        assert info.category in CATEGORIES, info
        assert info.docs_url.startswith(DOCS), info
        assert len(info.docs_url) > len(DOCS), info  # a page, not the folder
        assert info.display_name and info.description, info
        assert "\n" not in info.description, info
        if info.runner == "elastic":
            assert info.prerequisites, info
            assert all(isinstance(p, str) and p.strip() for p in info.prerequisites), info


def test_docs_pages_are_the_types_own():
    catalog = by_type(source_catalog())
    assert catalog["confluence"].docs_url == DOCS + "es-connectors-confluence"
    assert catalog["sharepoint_online"].docs_url == DOCS + "es-connectors-sharepoint-online"
    assert catalog["postgresql"].docs_url == DOCS + "es-connectors-postgresql"
    assert catalog["s3"].category == "File storage"
    assert catalog["mysql"].category == "Databases"
    assert catalog["confluence"].category == "Collaboration"


def test_grouped_by_category_in_order_then_by_name():
    catalog = source_catalog()
    ranks = [CATEGORIES.index(info.category) for info in catalog]
    assert ranks == sorted(ranks)  # groups in CATEGORIES order, each group contiguous
    for category in CATEGORIES:
        names = [i.display_name.lower() for i in catalog if i.category == category]
        assert names == sorted(names), category
    databases = [i.display_name for i in catalog if i.category == "Databases"]
    assert databases == [
        "Microsoft SQL Server",
        "MongoDB",
        "MySQL / MariaDB",  # Sluice's own name for the type
        "Oracle Database",
        "PostgreSQL",
        "Redis",
    ]
    assert catalog[0].display_name == "Amazon S3"
    assert catalog[-1].service_type == "sandfly"


def test_a_plugin_source_joins_the_catalog_as_sluices_under_other():
    catalog = source_catalog(ECHO)
    echo = by_type(catalog)["echo"]
    assert echo.runner == "sluice"
    assert echo.origin == "config.yml"
    assert echo.category == "Other"
    assert echo.display_name == "Echo"
    other = [i.display_name for i in catalog if i.category == "Other"]
    assert other == ["Echo", "Sandfly Security"]
    assert "echo" not in by_type(source_catalog())


def test_a_sources_map_that_gives_sluice_a_class_makes_it_sluices_once():
    catalog = source_catalog({"confluence": "tests.sources.plugin_sources:EchoSource"})
    entries = [i for i in catalog if i.service_type == "confluence"]
    assert len(entries) == 1
    (confluence,) = entries
    assert confluence.runner == "sluice"
    assert confluence.origin == "config.yml"
    assert confluence.category == "Collaboration"  # still where a user looks for it
    assert confluence.docs_url == DOCS + "es-connectors-confluence"
    assert runs_in_sluice("confluence", {"confluence": "tests.sources.plugin_sources:EchoSource"})


def test_elastics_sources_map_changes_nothing_about_who_runs_what():
    catalog = by_type(source_catalog(ELASTIC_SOURCES))
    assert catalog["dir"].runner == "sluice"
    assert catalog["mongodb"].runner == "elastic"
    assert catalog["confluence"].runner == "elastic"
    assert len(catalog) == 31
    assert runs_in_sluice("dir", ELASTIC_SOURCES)
    assert not runs_in_sluice("mongodb", ELASTIC_SOURCES)
    assert not runs_in_sluice("confluence", ELASTIC_SOURCES)


def test_find_source():
    confluence = find_source("confluence")
    assert confluence is not None
    assert (confluence.display_name, confluence.runner) == ("Confluence", "elastic")
    assert find_source("dir").runner == "sluice"
    assert find_source("echo") is None
    assert find_source("echo", ECHO).runner == "sluice"
    assert find_source("no_such_type") is None


@pytest.mark.parametrize(
    ("service_type", "expected"),
    [
        ("dir", True),
        ("postgresql", True),
        ("mysql", True),
        ("confluence", False),
        ("sharepoint_online", True),
        ("sharepoint_server", False),
        ("no_such_type", False),
        ("", False),
    ],
)
def test_runs_in_sluice(service_type, expected):
    assert runs_in_sluice(service_type) is expected


def test_runs_in_sluice_with_a_plugin():
    assert runs_in_sluice("echo", ECHO)
    assert not runs_in_sluice("echo")
    assert not runs_in_sluice("echo", {"echo": "tests.sources.plugin_sources:NotASource"})
