"""Where the suite runs: SQLite and the memory broker always; PostgreSQL and Redis when TEST_DATABASE_URL and
TEST_REDIS_URL name them (CI sets both)."""

from __future__ import annotations

import asyncio
import os
import secrets

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from meeting.models import metadata
from meeting.settings import normalize_database_url

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
DATABASE_BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
BROKER_BACKENDS = ["memory"] + (["redis"] if TEST_REDIS_URL else [])
# Pub/sub channels are global in Redis: keep concurrent test runs apart.
CHANNEL_NAMESPACE = f"test-{os.getpid()}-{secrets.token_hex(4)}"
# CI proves everything: there a test that would skip for a missing tool or service fails instead.
IN_CI = os.environ.get("CI", "").lower() == "true"
# For tests of several server processes: they share events through Redis and rows through PostgreSQL.
needs_postgresql_and_redis = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (CI sets both)",
)


def _dsn(url: str) -> str:
    """asyncpg's form of a PostgreSQL URL (SQLAlchemy's names its driver)."""
    return make_url(normalize_database_url(url)).set(drivername="postgresql").render_as_string(False)


async def _run(url: str, sql: str) -> None:
    connection = await asyncpg.connect(_dsn(url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def create_database() -> str:
    """A new, empty database of this run's own on the TEST_DATABASE_URL server; returns its URL."""
    assert TEST_DATABASE_URL is not None
    name = f"meeting_test_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_run(TEST_DATABASE_URL, f'CREATE DATABASE "{name}"'))
    server = make_url(normalize_database_url(TEST_DATABASE_URL))
    return server.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop a database made by `create_database`, whoever is still connected to it."""
    assert TEST_DATABASE_URL is not None
    asyncio.run(_run(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


# Per database: the statements that empty it. DELETE, children first, then every id sequence restarted
# at 1 (tests may count on the first user being user 1). TRUNCATE does the same but creates new files
# for each of the 22 tables and their indexes: 0.6 s per test on the 2-core machine, against 0.02 s.
_EMPTYING: dict[str, str] = {}


async def empty_tables(url: str) -> None:
    """Empty every table of a PostgreSQL test database (the schema and Alembic's version stay)."""
    connection = await asyncpg.connect(_dsn(url))
    try:
        if url not in _EMPTYING:
            sequences = await connection.fetch(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences"
            )
            _EMPTYING[url] = ";".join(
                [f'DELETE FROM "{table.name}"' for table in reversed(metadata.sorted_tables)]
                + [f"ALTER SEQUENCE {row[0]} RESTART" for row in sequences]
            )
        async with connection.transaction():
            await connection.execute(_EMPTYING[url])
    finally:
        await connection.close()
