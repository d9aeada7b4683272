"""The source registry: built-ins, entry points, and Elastic's `sources:` map."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sluice.sources.directory import DirectorySource
from sluice.sources.mysql import MySQLSource
from sluice.sources.postgresql import PostgreSQLSource
from sluice.sources.registry import (
    ENTRY_POINT_GROUP,
    UnknownSourceError,
    available_sources,
    get_source_class,
)
from tests.sources.plugin_sources import EchoSource

# As in Elastic's config.yml.example.
ELASTIC_SOURCES = {
    "dir": "connectors.sources.directory:DirectoryDataSource",
    "mysql": "connectors.sources.mysql:MySqlDataSource",
    "postgresql": "connectors.sources.postgresql:PostgreSQLDataSource",
    "mongodb": "connectors.sources.mongo:MongoDataSource",
    "s3": "connectors.sources.s3:S3DataSource",
}


def test_built_in_sources():
    assert get_source_class("dir") is DirectorySource
    assert get_source_class("postgresql") is PostgreSQLSource
    assert get_source_class("mysql") is MySQLSource
    infos = {info.service_type: info for info in available_sources()}
    assert {"dir", "postgresql", "mysql"} <= set(infos)
    for info in infos.values():
        assert info.display_name and info.description and info.prerequisites
        assert "\n" not in info.description
    assert infos["dir"].origin == "built-in"


def test_unknown_type_lists_the_known_ones():
    with pytest.raises(UnknownSourceError) as info:
        get_source_class("oracle")
    message = str(info.value)
    assert "Unknown source type 'oracle'" in message
    known = message.split("Known types: ")[1].split(".")[0].split(", ")
    assert known == sorted(known) and {"dir", "mysql", "postgresql", "s3"} <= set(known)


def test_elastic_sources_map_falls_back_to_built_ins(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="sluice.sources.registry")
    assert get_source_class("dir", ELASTIC_SOURCES) is DirectorySource
    assert get_source_class("postgresql", ELASTIC_SOURCES) is PostgreSQLSource
    assert get_source_class("mysql", ELASTIC_SOURCES) is MySQLSource
    assert "using Sluice's built-in sluice.sources.directory:DirectorySource" in caplog.text
    types = {info.service_type for info in available_sources(ELASTIC_SOURCES)}
    assert types >= {"dir", "mysql", "postgresql"}
    assert "mongodb" not in types  # Elastic's class is not installed and Sluice has none
    with pytest.raises(UnknownSourceError, match="no built-in 'mongodb' source"):
        get_source_class("mongodb", ELASTIC_SOURCES)


def test_unimportable_override_warns_and_falls_back(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="sluice.sources.registry")
    assert get_source_class("dir", {"dir": "company.connectors:FolderSource"}) is DirectorySource
    assert "company.connectors:FolderSource" in caplog.text
    assert "No module named 'company'" in caplog.text


def test_config_map_adds_a_custom_source():
    extra = {"echo": "tests.sources.plugin_sources:EchoSource"}
    assert get_source_class("echo", extra) is EchoSource
    # Elastic's dotted form works too.
    assert (
        get_source_class("echo", {"echo": "tests.sources.plugin_sources.EchoSource"}) is EchoSource
    )
    info = next(i for i in available_sources(extra) if i.service_type == "echo")
    assert info.origin == "config.yml" and info.prerequisites == ["Nothing at all."]


def test_a_class_that_is_not_a_source_is_refused():
    with pytest.raises(UnknownSourceError, match=r"subclass of sluice\.sources\.base\.Base"):
        get_source_class("odd", {"odd": "tests.sources.plugin_sources:NotASource"})
    # ...but for a type Sluice has, the built-in runs instead.
    assert (
        get_source_class("mysql", {"mysql": "tests.sources.plugin_sources:NotASource"})
        is MySQLSource
    )


def test_entry_point_of_an_installed_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real distribution's metadata on sys.path, as `pip install` leaves it."""
    dist = tmp_path / "sluice_echo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sluice-echo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\necho = tests.sources.plugin_sources:EchoSource\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert get_source_class("echo") is EchoSource
    info = next(i for i in available_sources() if i.service_type == "echo")
    assert info.origin == "entry point" and info.display_name == "Echo"


async def test_a_registered_source_runs():
    source = get_source_class("echo", {"echo": "tests.sources.plugin_sources:EchoSource"})(
        {"count": "3"}
    )
    ids = [doc["_id"] async for doc in source.get_docs()]
    assert ids == ["echo-0", "echo-1", "echo-2"]
