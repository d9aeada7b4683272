"""The source databases, made once per session: the per-database suites
(test_mysql.py, test_postgresql.py) and the shared SQL suite (test_sql_sources.py) read the
same ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sources import mysql_server, pg_server
from tests.sources.sharepoint_tenant import microsoft, spo  # noqa: F401 - fixtures


@pytest.fixture(scope="session")
def mariadb() -> bool:
    return mysql_server.is_mariadb()


@pytest.fixture(scope="session")
def mysql_database(mariadb: bool) -> Iterator[str]:
    with mysql_server.seeded_database(mariadb) as name:
        yield name


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    with pg_server.seeded_database() as name:
        yield name
