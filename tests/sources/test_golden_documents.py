"""Sluice's documents against Elastic's, for the sources both ship (dir, postgresql, mysql).

Elastic's connector service and Sluice may sync the same index, one after the other: a
document Sluice writes must then have the `_id` Elastic's source gives the same item (or a
switch re-creates every document) and Elastic's fields with Elastic's JSON types (or one
service's documents are rejected by the mapping the other's created). The recorded examples
are in tests/golden/documents (see its README); here the same items are built for real, read
by Sluice's sources, and compared, then both documents are indexed into one index.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import aiomysql
import asyncpg
import pytest
from elasticsearch import AsyncElasticsearch

from sluice.core import extraction
from sluice.sources.base import BaseSource
from sluice.sources.directory import DirectorySource, file_id
from sluice.sources.mysql import MySQLSource
from sluice.sources.postgresql import PostgreSQLSource
from tests.conftest import ROOT, service_url
from tests.sources.helpers import parse_url
from tests.sources.items import resolve

GOLDEN = ROOT / "tests" / "golden" / "documents"
SUFFIX = uuid.uuid4().hex[:10]

#: Sluice's own fields on `dir` documents, on top of Elastic's.
DIR_EXTRAS = {"relative_path", "name", "extension", "mime_type", "owner", "group", "mode", "body"}
#: Values Sluice writes differently on purpose, same JSON type (sources/README.md lists them).
PG_DEVIATIONS = {"sales_order_lines_label": "bytea: base64, where Elastic drops undecodable bytes"}
MYSQL_DEVIATIONS = {"flags": "BIT: the column's digits, where Elastic writes the raw bytes"}


def golden(source: str) -> dict[str, Any]:
    return json.loads((GOLDEN / f"{source}.json").read_text())


def json_type(value: Any) -> str:
    """The JSON type Elasticsearch sees (a float stays a float even when whole)."""
    if value is None:
        return "null"
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "float"), (str, "string")):
        if isinstance(value, kind):
            return name
    if isinstance(value, list):
        return "array of " + ",".join(sorted({json_type(item) for item in value}))
    return "object"


def as_sent(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document as JSON, the way it travels to Elasticsearch."""
    return json.loads(json.dumps(document))


def assert_like_elastic(
    sluice: Mapping[str, Any],
    elastic: Mapping[str, Any],
    expected: Mapping[str, Any],
    *,
    golden_spec: Mapping[str, Any],
    extras: Collection[str] = (),
    type_only: Collection[str] = (),
) -> None:
    """Every field of Elastic's document is in Sluice's, with the same JSON type, and the
    `expected` value unless listed in `type_only`; Sluice's other fields are its declared
    extras, under names Elastic does not use."""
    missing = set(elastic) - set(sluice)
    assert not missing, f"Elastic's fields missing from Sluice's document: {sorted(missing)}"
    for field, value in elastic.items():
        assert json_type(sluice[field]) == json_type(value), (field, sluice[field], value)
        if field not in type_only:
            assert sluice[field] == expected[field], field
    own = set(sluice) - set(elastic)
    assert own <= set(extras), f"undeclared fields: {sorted(own - set(extras))}"
    elastic_names = set(elastic) | set(golden_spec["elastic_also_writes"])
    assert not set(extras) & elastic_names, "a Sluice field uses one of Elastic's names"


async def assert_one_index_holds_both(
    es: AsyncElasticsearch, index: str, elastic: Mapping[str, Any], sluice: Mapping[str, Any]
) -> None:
    """Elastic's document, then Sluice's, into a fresh index (dynamic mapping from the first),
    and the other way round into another: no mapping error either way."""
    names = [f"{index}-elastic-first", f"{index}-sluice-first"]
    try:
        for name, order in zip(names, ((elastic, sluice), (sluice, elastic)), strict=True):
            for who, document in zip(("first", "second"), order, strict=True):
                body = {key: value for key, value in document.items() if key != "_id"}
                await es.index(index=name, id=who, document=body)
            await es.indices.refresh(index=name)
            assert (await es.count(index=name))["count"] == 2
    finally:
        for name in names:
            await es.options(ignore_status=404).indices.delete(index=name)


async def documents(source: BaseSource, filtering: Any = None) -> list[dict[str, Any]]:
    async with source:
        return [as_sent(await resolve(doc)) async for doc in source.get_docs(filtering)]


def rule_filtering(rule: Mapping[str, Any]) -> dict[str, Any]:
    return {"advanced_snippet": {"value": [dict(rule)]}}


# ---------------------------------------------------------------- dir


@pytest.fixture(scope="module", autouse=True)
def stop_pool_after_module() -> Iterator[None]:
    yield
    extraction.shutdown()


def elastic_dir_id(path: str) -> str:
    return hashlib.md5(path.encode("utf8")).hexdigest()


@pytest.mark.es
async def test_dir_document_is_elastics(tmp_path: Path, es: AsyncElasticsearch, index_name: str):
    spec = golden("dir")
    item, elastic = spec["item"], spec["document"]
    assert elastic["path"] == f"{item['directory']}/{item['relative_path']}"
    assert elastic["_id"] == elastic_dir_id(elastic["path"])  # the example is consistent

    root = tmp_path / "files"
    file = root / item["relative_path"]
    file.parent.mkdir(parents=True)
    file.write_text(item["content"])
    file.chmod(int(item["mode"], 8))
    os.utime(file, ns=(item["mtime_ns"], item["mtime_ns"]))

    (document,) = await documents(DirectorySource({"directory": str(root)}))
    info = file.stat()
    path = str(Path(os.path.abspath(root)) / item["relative_path"])  # Elastic's glob path
    expected = {
        **elastic,
        "_id": elastic_dir_id(path),
        "path": path,
        "inode_number": info.st_ino,
        "device_inode_reside": info.st_dev,
        "uid": info.st_uid,
        "gid": info.st_gid,
        "ctime": info.st_ctime,
    }
    assert_like_elastic(
        document,
        elastic,
        expected,
        golden_spec=spec,
        extras=DIR_EXTRAS,
        type_only={"last_access_time"},  # reading the file may move it
    )
    assert document["body"] == item["content"].strip()
    await assert_one_index_holds_both(es, index_name, elastic, document)


def test_dir_id_of_a_name_elastic_cannot_encode():
    """Not valid UTF-8: Elastic's source fails on it; Sluice hashes the bytes on disk."""
    raw = b"/srv/files/caf\xe9.txt"
    assert file_id(os.fsdecode(raw)) == hashlib.md5(raw).hexdigest()
    assert file_id("/srv/files/été.txt") == elastic_dir_id("/srv/files/été.txt")


# ---------------------------------------------------------------- postgresql


def pg_admin_url() -> str:
    return service_url("SLUICE_PG_URL", "postgresql://sluice:sluice@127.0.0.1:35432/sluice")


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    name = f"sluice_golden_{SUFFIX}"
    server = parse_url(pg_admin_url())

    async def setup() -> None:
        admin = await asyncpg.connect(pg_admin_url())
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(
            host=server.host, port=server.port, user=server.user,
            password=server.password, database=name,
        )  # fmt: skip
        try:
            for statement in golden("postgresql")["item"]["setup"]:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def teardown() -> None:
        admin = await asyncpg.connect(pg_admin_url())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    try:
        asyncio.run(setup())
        yield name
    finally:
        asyncio.run(teardown())


def elastic_pg_id(database: str, schema: str, tables: list[str], keys: list[Any]) -> str:
    values = "_".join(str(value) for value in keys if value is not None)
    return f"{database}_{schema}_{'_'.join(sorted(tables))}_{values}"


@pytest.mark.pg
@pytest.mark.es
async def test_postgresql_documents_are_elastics(
    pg_database: str, es: AsyncElasticsearch, index_name: str
):
    spec = golden("postgresql")
    item = spec["item"]
    server = parse_url(pg_admin_url())
    configuration = {
        "host": server.host, "port": server.port, "username": server.user,
        "password": server.password, "database": pg_database, "schema": item["schema"],
        "tables": item["table"], "retry_count": 0,
    }  # fmt: skip
    read = {
        "table": await documents(PostgreSQLSource(configuration)),
        "query": await documents(PostgreSQLSource(configuration), rule_filtering(item["rule"])),
    }
    for kind, (document,) in read.items():
        elastic = spec["documents"][kind]
        tables = item["rule"]["tables"] if kind == "query" else [item["table"]]
        keys = item["key_values"][kind]
        assert elastic["_id"] == elastic_pg_id(item["database"], item["schema"], tables, keys)
        expected = {
            **elastic,
            "_id": elastic_pg_id(pg_database, item["schema"], tables, keys),
            "database": pg_database,
        }
        assert_like_elastic(
            document,
            elastic,
            expected,
            golden_spec=spec,
            type_only={"_timestamp", *PG_DEVIATIONS},
        )
        await assert_one_index_holds_both(es, f"{index_name}-{kind}", elastic, document)


# ---------------------------------------------------------------- mysql


def mysql_admin() -> Any:
    return parse_url(
        service_url("SLUICE_MYSQL_URL", "mysql://sluice:sluice@127.0.0.1:33306/sluice")
    )


async def mysql_connection(database: str | None = None) -> aiomysql.Connection:
    server = mysql_admin()
    return await aiomysql.connect(
        host=server.host, port=server.port, user=server.user, password=server.password,
        db=database, autocommit=True, charset="utf8mb4",
    )  # fmt: skip


@pytest.fixture(scope="module")
def mysql_database() -> Iterator[str]:
    name = f"sluice_golden_{SUFFIX}"

    async def run(database: str | None, *statements: str) -> None:
        connection = await mysql_connection(database)
        try:
            async with connection.cursor() as cursor:
                for statement in statements:
                    await cursor.execute(statement)
        finally:
            connection.close()

    try:
        asyncio.run(run(None, f"CREATE DATABASE `{name}`"))
        asyncio.run(run(name, *golden("mysql")["item"]["setup"]))
        yield name
    finally:
        asyncio.run(run(None, f"DROP DATABASE IF EXISTS `{name}`"))


def elastic_mysql_id(tables: list[str], keys: list[Any]) -> str:
    values = "_".join(str(value) for value in keys if value is not None)
    return f"{'_'.join(sorted(tables))}_{values}"


@pytest.mark.mysql
@pytest.mark.es
async def test_mysql_documents_are_elastics(
    mysql_database: str, es: AsyncElasticsearch, index_name: str
):
    spec = golden("mysql")
    item = spec["item"]
    server = mysql_admin()
    configuration = {
        "host": server.host, "port": server.port, "user": server.user,
        "password": server.password, "database": mysql_database, "tables": item["table"],
        "retry_count": 0,
    }  # fmt: skip
    read = {
        "table": await documents(MySQLSource(configuration)),
        "query": await documents(MySQLSource(configuration), rule_filtering(item["rule"])),
    }
    for kind, (document,) in read.items():
        elastic = spec["documents"][kind]
        tables = item["rule"]["tables"] if kind == "query" else [item["table"]]
        assert elastic["_id"] == elastic_mysql_id(tables, item["key_values"][kind])
        assert_like_elastic(
            document,
            elastic,
            elastic,
            golden_spec=spec,
            type_only={"_timestamp", *MYSQL_DEVIATIONS},
        )
        await assert_one_index_holds_both(es, f"{index_name}-{kind}", elastic, document)
