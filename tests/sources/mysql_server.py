"""The MariaDB/MySQL database the `mysql` source tests read: its seed, an administrator
connection, and a restricted user. Created once per test session (tests/sources/conftest.py)
and dropped at its end."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiomysql

from tests.conftest import service_url
from tests.sources.helpers import Server, parse_url

SUFFIX = uuid.uuid4().hex[:10]
DATABASE = f"sluice_src_{SUFFIX}"
READER = f"sluice_ro_{SUFFIX}"
READER_PASSWORD = "reader-pass-1"
BIG_ROWS = 100_000
UUID_VALUE = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"

SEED = [
    """CREATE TABLE all_types (
        id BIGINT UNSIGNED PRIMARY KEY, tiny TINYINT, small SMALLINT, medium MEDIUMINT, num INT,
        big BIGINT UNSIGNED, price DECIMAL(20,5), huge DECIMAL(40,10), ratio FLOAT, dbl DOUBLE,
        flag BOOLEAN, bits BIT(8), label VARCHAR(50), letter CHAR(3), body TEXT,
        long_body LONGTEXT, raw VARBINARY(16), fixed BINARY(4), blob_col BLOB, day DATE,
        clock TIME, at_local DATETIME(6), at_ts TIMESTAMP NULL, yr YEAR,
        e ENUM('sad', 'happy'), s SET('x', 'y', 'z'), doc JSON, g POINT, poly POLYGON,
        geom GEOMETRY {extra_columns}
    ) DEFAULT CHARSET = utf8mb4""",
    """INSERT INTO all_types VALUES (
        1, -128, -32768, 8388607, 2147483647, 18446744073709551615, 12345.67891,
        123456789012345678901234567890.1234567890, 1.5, 2.25, TRUE, b'10101010', 'label é',
        'ab', 'long body ✓', REPEAT('x', 70000), x'deadbeef', x'0102', x'00ff',
        '2024-02-29', '13:45:30', '2024-05-01 10:00:00.123456', '2024-05-01 08:00:00', 2024,
        'happy', 'x,z', '{{"a": [1, 2], "b": null}}', ST_GeomFromText('POINT(1 2)'),
        ST_GeomFromText('POLYGON((0 0,1 1,1 0,0 0))'), ST_GeomFromText('LINESTRING(0 0,1 1)')
        {extra_values}
    )""",
    "INSERT INTO all_types (id) VALUES (2)",
    """CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, total DECIMAL(10,2),
                          updated_at DATETIME NOT NULL)""",
    "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50))",
    "INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace')",
    """INSERT INTO orders VALUES (1, 1, 10.50, '2024-01-01 00:00:00'),
                                 (2, 2, 20.00, '2024-01-02 00:00:00'),
                                 (3, 1, 30.25, '2024-01-03 00:00:00')""",
    "CREATE TABLE events (happened DATE, what VARCHAR(20))",
    "INSERT INTO events VALUES ('2024-01-01', 'same'), ('2024-01-01', 'same'), ('2024-01-02', 'b')",
    "CREATE TABLE secret (id INT PRIMARY KEY, value TEXT)",
    "CREATE VIEW order_view AS SELECT id, total FROM orders",
    "CREATE TABLE digits (d INT)",
    "INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)",
    "CREATE TABLE big (id INT PRIMARY KEY, payload TEXT)",
    """INSERT INTO big SELECT a.d + 10*b.d + 100*c.d + 1000*e.d + 10000*f.d + 1,
              REPEAT(MD5(a.d + 10*b.d + 100*c.d + 1000*e.d + 10000*f.d), 32)
       FROM digits a, digits b, digits c, digits e, digits f""",
]


def admin_server() -> Server:
    return parse_url(
        service_url("SLUICE_MYSQL_URL", "mysql://sluice:sluice@127.0.0.1:33306/sluice")
    )


async def admin_connection(database: str | None = None) -> aiomysql.Connection:
    server = admin_server()
    return await aiomysql.connect(
        host=server.host, port=server.port, user=server.user, password=server.password,
        db=database, autocommit=True, charset="utf8mb4", init_command="SET time_zone = '+00:00'",
    )  # fmt: skip


async def execute(connection: aiomysql.Connection, *statements: str) -> None:
    async with connection.cursor() as cursor:
        for statement in statements:
            await cursor.execute(statement)


def is_mariadb() -> bool:
    async def version() -> str:
        connection = await admin_connection()
        try:
            return connection.get_server_info()
        finally:
            connection.close()

    return "mariadb" in asyncio.run(version()).lower()


@contextmanager
def seeded_database(mariadb: bool) -> Iterator[str]:
    """DATABASE with SEED and READER (SELECT on orders and customers), dropped on exit."""
    extra_columns = ", uid UUID, ip INET6" if mariadb else ""
    extra_values = f", '{UUID_VALUE}', '::ffff:192.168.1.5'" if mariadb else ""

    async def setup() -> None:
        admin = await admin_connection()
        try:
            await execute(
                admin,
                f"CREATE DATABASE `{DATABASE}`",
                f"CREATE USER '{READER}'@'%' IDENTIFIED BY '{READER_PASSWORD}'",
            )
        finally:
            admin.close()
        connection = await admin_connection(DATABASE)
        try:
            await execute(
                connection,
                *(
                    s.format(extra_columns=extra_columns, extra_values=extra_values)
                    if "{" in s
                    else s
                    for s in SEED
                ),
                f"GRANT SELECT ON `{DATABASE}`.orders TO '{READER}'@'%'",
                f"GRANT SELECT ON `{DATABASE}`.customers TO '{READER}'@'%'",
            )
        finally:
            connection.close()

    async def teardown() -> None:
        admin = await admin_connection()
        try:
            await execute(
                admin,
                f"DROP DATABASE IF EXISTS `{DATABASE}`",
                f"DROP USER IF EXISTS '{READER}'@'%'",
            )
        finally:
            admin.close()

    try:
        asyncio.run(setup())
        yield DATABASE
    finally:
        asyncio.run(teardown())


def config(database: str, **overrides: Any) -> dict[str, Any]:
    """The `mysql` source's configuration for `database` as the administrator."""
    server = admin_server()
    values: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "database": database,
        "tables": "*",
        "retry_count": 0,
        "connect_timeout": 5,
    }
    values.update(overrides)
    return values
