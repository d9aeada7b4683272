"""The PostgreSQL database the `postgresql` source tests read: its seed, an administrator
connection, and a restricted role. Created once per test session (tests/sources/conftest.py)
and dropped at its end."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg

from tests.conftest import service_url
from tests.sources.helpers import parse_url

SUFFIX = uuid.uuid4().hex[:10]
DATABASE = f"sluice_src_{SUFFIX}"
READER = f"sluice_ro_{SUFFIX}"
READER_PASSWORD = "reader-pass-1"
BIG_ROWS = 100_000

SEED = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE all_types (
    id bigint PRIMARY KEY, small smallint, big bigint, price numeric(20,5), huge numeric,
    nan_num numeric, ratio real, dbl double precision, flag boolean, label varchar(50),
    letter char(3), body text, raw bytea, day date, clock time, clock_tz timetz,
    at_local timestamp, at_utc timestamptz, span interval, uid uuid, doc json, docb jsonb,
    ints int[], words text[], pt point, ln line, seg lseg, bx box, pth path, poly polygon,
    circ circle, ip inet, net cidr, mac macaddr, bits bit(8), vbits varbit, x xml,
    rng int4range, m mood, cash money
);
INSERT INTO all_types VALUES (
    1, -32768, 9223372036854775807, 12345.67891, 123456789012345678901234567890.123,
    'NaN', 1.5, 'Infinity', true, 'label é', 'ab', 'long body ✓', '\\xdeadbeef',
    '2024-02-29', '13:45:30', '13:45:30+02', '2024-05-01 10:00:00',
    '2024-05-01 10:00:00+02', '1 day 2 hours 3 minutes 4.5 seconds',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2], "b": null}', '{"k": {"n": 1.5}}',
    '{1,2,3}', '{"a","b c"}', '(1.5,2)', '{1,-1,0}', '[(0,0),(1,1)]', '((2,2),(0,0))',
    '[(0,0),(1,1),(2,0)]', '((0,0),(1,1),(1,0))', '<(1,1),2>', '192.168.1.5/24', '10.0.0.0/8',
    '08:00:2b:01:02:03', B'10101010', B'101', '<a>x</a>', '[1,10)', 'happy', 12.34
);
INSERT INTO all_types (id) VALUES (2);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total numeric(10,2),
                     updated_at timestamptz NOT NULL);
CREATE TABLE customers (id int PRIMARY KEY, name text);
INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace');
INSERT INTO orders VALUES (1, 1, 10.50, '2024-01-01 00:00:00+00'),
                          (2, 2, 20.00, '2024-01-02 00:00:00+00'),
                          (3, 1, 30.25, '2024-01-03 00:00:00+00');
CREATE TABLE events (happened date, what text);
INSERT INTO events VALUES ('2024-01-01', 'same'), ('2024-01-01', 'same'), ('2024-01-02', 'other');
CREATE TABLE secret (id int PRIMARY KEY, value text);
CREATE TABLE "Mixed Case" (id int PRIMARY KEY, "Value" text);
INSERT INTO "Mixed Case" VALUES (1, 'quoted');
CREATE TABLE parted (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');
INSERT INTO parted VALUES (1, 'eu'), (2, 'us');
CREATE TABLE big (id int PRIMARY KEY, payload text);
INSERT INTO big SELECT g, repeat(md5(g::text), 32) FROM generate_series(1, 100000) g;
CREATE SCHEMA other;
CREATE TABLE other.things (id int PRIMARY KEY);
"""


def admin_url() -> str:
    return service_url("SLUICE_PG_URL", "postgresql://sluice:sluice@127.0.0.1:35432/sluice")


async def admin_connection(database: str) -> asyncpg.Connection:
    server = parse_url(admin_url())
    return await asyncpg.connect(
        host=server.host, port=server.port, user=server.user,
        password=server.password, database=database,
    )  # fmt: skip


@contextmanager
def seeded_database() -> Iterator[str]:
    """DATABASE with SEED and READER (SELECT on all_types and orders), dropped on exit."""

    async def setup() -> None:
        admin = await asyncpg.connect(admin_url())
        try:
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
            await admin.execute(f"CREATE ROLE {READER} LOGIN PASSWORD '{READER_PASSWORD}'")
        finally:
            await admin.close()
        conn = await admin_connection(DATABASE)
        try:
            await conn.execute(SEED)
            await conn.execute(f"GRANT SELECT ON all_types, orders TO {READER}")
        finally:
            await conn.close()

    async def teardown() -> None:
        admin = await asyncpg.connect(admin_url())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            await admin.execute(f"DROP ROLE IF EXISTS {READER}")
        finally:
            await admin.close()

    try:
        asyncio.run(setup())
        yield DATABASE
    finally:
        asyncio.run(teardown())


def config(database: str, **overrides: Any) -> dict[str, Any]:
    """The `postgresql` source's configuration for `database` as the administrator."""
    server = parse_url(admin_url())
    values: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "username": server.user,
        "password": server.password,
        "database": database,
        "schema": "public",
        "tables": "*",
        "retry_count": 0,
        "connect_timeout": 5,
    }
    values.update(overrides)
    return values
