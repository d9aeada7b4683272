"""A stopped full sync of a database continues after the last row of its checkpoint
(keyset: tables in order, rows in primary-key order), on the real PostgreSQL and MariaDB."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomysql
import asyncpg
import pytest

from sluice.core.engine.checkpoint import Checkpoint
from sluice.core.engine.engine import StopSignal, SyncEngine, SyncRequest
from sluice.core.engine.progress import SyncStatus
from sluice.core.engine.settings import EngineSettings
from sluice.sources.registry import create_source
from tests.core.engine.conftest import index_contents
from tests.sources.helpers import parse_url

pytestmark = pytest.mark.es

FAST = EngineSettings(
    chunk_size=100, max_concurrency=2, progress_interval=0.01, checkpoint_interval=0.02
)
ROWS = 3000


class Paced:
    """The source, yielding an item every `delay` seconds: the stop must land inside the
    table with the two-column key however fast the server answers."""

    def __init__(self, source: Any, delay: float = 0.0005) -> None:
        self._source = source
        self._delay = delay

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    async def get_docs(self, filtering: Any = None) -> AsyncIterator[Any]:
        async for item in self._source.get_docs(filtering):
            await asyncio.sleep(self._delay)
            yield item


async def _postgresql(url: str) -> tuple[dict[str, Any], Any]:
    s = parse_url(url)
    name = f"sluice_resume_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    conn = await asyncpg.connect(
        host=s.host, port=s.port, user=s.user, password=s.password, database=name
    )
    await conn.execute(
        "CREATE TABLE a_first (id int PRIMARY KEY, title text);"
        "INSERT INTO a_first SELECT g, 'first ' || g FROM generate_series(1, 500) g;"
        "CREATE TABLE b_items (region text, id int, title text, PRIMARY KEY (region, id));"
        f"INSERT INTO b_items SELECT 'r' || (g % 3), g, 'item ' || g"
        f" FROM generate_series(1, {ROWS}) g;"
        "CREATE TABLE c_nokey (title text);"
        "INSERT INTO c_nokey SELECT 'row ' || g FROM generate_series(1, 50) g;"
    )
    await conn.close()

    async def drop() -> None:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    config = {
        "host": s.host,
        "port": s.port,
        "username": s.user,
        "password": s.password,
        "database": name,
        "tables": "*",
    }
    return config, drop


async def _mysql(url: str) -> tuple[dict[str, Any], Any]:
    s = parse_url(url)
    name = f"sluice_resume_{uuid.uuid4().hex[:8]}"
    conn = await aiomysql.connect(
        host=s.host, port=s.port, user=s.user, password=s.password, autocommit=True
    )
    async with conn.cursor() as cursor:
        await cursor.execute(f"CREATE DATABASE `{name}`")
        await cursor.execute(f"USE `{name}`")
        await cursor.execute("CREATE TABLE a_first (id INT PRIMARY KEY, title VARCHAR(40))")
        await cursor.executemany(
            "INSERT INTO a_first VALUES (%s, %s)", [(n, f"first {n}") for n in range(1, 501)]
        )
        await cursor.execute(
            "CREATE TABLE b_items (region VARCHAR(5), id INT, title VARCHAR(40),"
            " PRIMARY KEY (region, id))"
        )
        await cursor.executemany(
            "INSERT INTO b_items VALUES (%s, %s, %s)",
            [(f"r{n % 3}", n, f"item {n}") for n in range(1, ROWS + 1)],
        )
        await cursor.execute("CREATE TABLE c_nokey (title VARCHAR(40))")
        await cursor.executemany(
            "INSERT INTO c_nokey VALUES (%s)", [(f"row {n}",) for n in range(1, 51)]
        )

    async def drop() -> None:
        async with conn.cursor() as cursor:
            await cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()

    config = {
        "host": s.host,
        "port": s.port,
        "user": s.user,
        "password": s.password,
        "database": name,
        "tables": "*",
    }
    return config, drop


@pytest.fixture(params=["postgresql", "mysql"])
async def database(
    request: pytest.FixtureRequest, pg_url: str, mysql_url: str
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    request.applymarker(pytest.mark.pg if request.param == "postgresql" else pytest.mark.mysql)
    make = _postgresql if request.param == "postgresql" else _mysql
    config, drop = await make(pg_url if request.param == "postgresql" else mysql_url)
    try:
        yield request.param, config
    finally:
        await drop()


async def test_a_stopped_database_sync_continues_after_its_last_checkpointed_row(
    es, index_name, database, tmp_path: Path
):
    service_type, config = database
    total = 500 + ROWS + 50
    ledger = tmp_path / "ledger"
    seen: list[Checkpoint] = []
    stop = StopSignal()

    def confirmed(checkpoint: Checkpoint) -> None:
        # stop once the read is inside the table with the two-column key
        seen.append(checkpoint)
        if (checkpoint.position or {}).get("table", "").endswith("b_items"):
            stop.suspend()

    source = create_source(service_type, config)
    engine = SyncEngine(es, FAST, stop=stop, ledger_dir=ledger, on_checkpoint=confirmed)
    first = await engine.run(Paced(source), SyncRequest(index_name=index_name))
    await source.close()
    assert first.status is SyncStatus.SUSPENDED, first.error
    checkpoint = seen[-1]
    assert checkpoint.position["table"].endswith("b_items")
    assert isinstance(checkpoint.position["after"], list) and len(checkpoint.position["after"]) == 2

    source = create_source(service_type, config)
    engine = SyncEngine(es, FAST, ledger_dir=ledger, on_checkpoint=lambda _: None)
    resumed = await engine.run(source, SyncRequest(index_name=index_name), resume=checkpoint)
    await source.close()
    assert resumed.status is SyncStatus.COMPLETED, resumed.error
    assert resumed.resumed_after == checkpoint.items
    # only what came after the checkpoint was read
    assert resumed.counters.extracted == total

    clean = f"{index_name}-clean"
    try:
        source = create_source(service_type, config)
        await SyncEngine(es, FAST).run(source, SyncRequest(index_name=clean))
        await source.close()
        resumed_docs = await index_contents(es, index_name)
        clean_docs = await index_contents(es, clean)
    finally:
        await es.options(ignore_status=404).indices.delete(index=clean)
    assert len(resumed_docs) == total
    strip = {"_timestamp"}  # a row's "synced at" differs between the two syncs
    assert {k: {f: v for f, v in d.items() if f not in strip} for k, d in resumed_docs.items()} == {
        k: {f: v for f, v in d.items() if f not in strip} for k, d in clean_docs.items()
    }
