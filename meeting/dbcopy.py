"""`meeting db copy FROM_URL TO_URL`: every row of one database into another, e.g. SQLite → PostgreSQL.

Both sides must be at this version's schema; the target is migrated first when it has no schema, and
refused when any of its tables has a row (a copy never merges). Rows go table by table in foreign-key
order, each table in primary-key order, in one transaction on the target: a copy that fails leaves the
target as empty as it was. On PostgreSQL the id sequences are moved past the copied ids, so the next
row gets the next id. Stop the server first: a copy is of what the source holds at that moment, table
by table, not one snapshot (`meeting backup` is the one to use while it runs).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Integer, func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from meeting.settings import Settings, normalize_database_url

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

BATCH = 500  # rows per INSERT: bounded memory for a table of annotations, few round trips


class CopyError(Exception):
    """A copy refused or failed; the message names the database and what to do. Nothing was written."""


@dataclasses.dataclass(frozen=True)
class Copied:
    """How many rows went into each table."""

    rows: dict[str, int]

    def summary(self) -> str:
        """ "1234 rows in 21 tables"."""
        return f"{sum(self.rows.values())} rows in {len(self.rows)} tables"


def shown(url: str) -> str:
    """The URL without its password, for messages."""
    parsed = make_url(url)
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


def _settings(url: str, data_dir: Path) -> Settings:
    try:
        make_url(normalize_database_url(url))
    except ArgumentError:
        raise CopyError(
            f"{url!r} is not a database URL (e.g. sqlite:///var/meeting.sqlite3 or "
            "postgresql://user@host/meeting)"
        ) from None
    return Settings(data_dir=data_dir, database_url=url)


def copy(from_url: str, to_url: str, data_dir: Path) -> Copied:
    """Copy every table from `from_url` into the empty database at `to_url`.

    Raises:
        CopyError: a URL is wrong, a database cannot be reached, the source is not at this version's
            schema, the target holds rows or another schema version, or the copy failed (rolled back).
    """
    from meeting.migrations import needs_upgrade, upgrade

    source, target = _settings(from_url, data_dir), _settings(to_url, data_dir)
    if source.resolved_database_url == target.resolved_database_url:
        raise CopyError("FROM_URL and TO_URL are the same database")
    if make_url(source.resolved_database_url).get_backend_name() == "sqlite":
        path = make_url(source.resolved_database_url).database
        if not path or not Path(path).is_file():
            raise CopyError(
                f"{shown(source.resolved_database_url)}: no such SQLite file {path} (three slashes start "
                "a path relative to this directory, four an absolute one: sqlite:////srv/meeting.sqlite3)"
            )
    try:
        problem = needs_upgrade(source)
        if problem is not None:
            raise CopyError(f"source: {problem}")
        asyncio.run(_refuse_rows(target))
        if needs_upgrade(target) is not None:
            # Only a target without the schema gets here migrated: one of another version is refused.
            asyncio.run(_refuse_other_schema(target))
            upgrade(target)
        return asyncio.run(_copy_rows(source, target))
    except (OSError, SQLAlchemyError) as exc:
        raise CopyError(f"the copy failed and was rolled back: {exc}") from None


async def _refuse_rows(settings: Settings) -> None:
    from meeting.models import metadata

    engine = _engine(settings)
    try:
        async with engine.connect() as connection:
            present = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
            for table in metadata.sorted_tables:
                if table.name in present and await _count(connection, table):
                    raise CopyError(
                        f"target {shown(settings.resolved_database_url)} is not empty (table {table.name} "
                        "has rows): copy only into a new, empty database"
                    )
    finally:
        await engine.dispose()


async def _refuse_other_schema(settings: Settings) -> None:
    engine = _engine(settings)
    try:
        async with engine.connect() as connection:
            present = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    if present:
        raise CopyError(
            f"target {shown(settings.resolved_database_url)} has tables of another schema version "
            f"({', '.join(sorted(present)[:5])}…): copy into a new, empty database"
        )


async def _copy_rows(source: Settings, target: Settings) -> Copied:
    from meeting.models import metadata

    rows: dict[str, int] = {}
    reader, writer = _engine(source), _engine(target)
    try:
        async with reader.connect() as src, writer.begin() as dst:
            for table in metadata.sorted_tables:
                rows[table.name] = await _copy_table(src, dst, table)
            if dst.dialect.name == "postgresql":
                for table in metadata.sorted_tables:
                    await _move_sequence(dst, table)
    finally:
        await reader.dispose()
        await writer.dispose()
    return Copied(rows=rows)


async def _copy_table(src: AsyncConnection, dst: AsyncConnection, table: Table) -> int:
    # Primary-key order: a row that points at an earlier row of its own table (a reply, a version)
    # comes after it.
    result = await src.stream(select(table).order_by(*table.primary_key.columns))
    count = 0
    async for batch in result.partitions(BATCH):
        await dst.execute(insert(table), [dict(row._mapping) for row in batch])
        count += len(batch)
    return count


async def _move_sequence(dst: AsyncConnection, table: Table) -> None:
    """setval the sequence behind an integer id to the largest copied id (a fresh one stays at 1)."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or not isinstance(keys[0].type, Integer):
        return
    column = keys[0]
    sequence = (
        await dst.execute(select(func.pg_get_serial_sequence(table.name, column.name)))
    ).scalar_one_or_none()
    if sequence is None:
        return
    await dst.execute(
        text(
            f'SELECT setval(:sequence, COALESCE(MAX("{column.name}"), 1), MAX("{column.name}") IS NOT NULL) '
            f'FROM "{table.name}"'
        ),
        {"sequence": sequence},
    )


async def _count(connection: AsyncConnection, table: Table) -> int:
    return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


def _engine(settings: Settings) -> AsyncEngine:
    from meeting.db import create_engine

    return create_engine(settings)
