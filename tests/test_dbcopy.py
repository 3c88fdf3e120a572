"""`meeting db copy FROM_URL TO_URL`: a live meeting moved from SQLite to PostgreSQL and back."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from meeting.db import create_engine
from meeting.models import metadata
from meeting.settings import Settings
from tests.support.api import api_as, api_for
from tests.support.backends import TEST_DATABASE_URL, create_database, drop_database
from tests.support.servers import deployment, migrate, serve, start_server, stop_server
from tests.test_backup import _live_meeting, _record

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MEETING = [sys.executable, "-m", "meeting.cli"]
needs_postgresql = pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")


def meeting_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The `meeting` command line as an operator runs it."""
    return subprocess.run(
        [*MEETING, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def postgresql() -> Iterator[str]:
    """A new, empty PostgreSQL database."""
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


async def _rows(url: str, data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order, as the application's types read them."""
    engine = create_engine(Settings(data_dir=data_dir, database_url=url))
    try:
        async with engine.connect() as connection:
            return {
                table.name: [
                    tuple(row)
                    for row in await connection.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in metadata.sorted_tables
            }
    finally:
        await engine.dispose()


@needs_postgresql
@pytest.mark.slow
async def test_a_live_meeting_copied_to_postgresql_and_back_keeps_every_row_and_its_record(
    tmp_path: Path, postgresql: str
) -> None:
    here = deployment(tmp_path / "data")
    await migrate(here.settings)
    async with serve(here.settings) as server, api_for(here.settings, server.http) as api:
        council, docs, secret = await _live_meeting(api, server)
        before = await _record(api, council, docs)
    sqlite_url = f"sqlite:///{tmp_path / 'data' / 'meeting.sqlite3'}"
    source_rows = await _rows(sqlite_url, tmp_path / "data")
    assert source_rows["audit_entries"] and source_rows["sealed_ballots"] and source_rows["document_versions"]

    copied = await asyncio.to_thread(meeting_cli, here.env, "db", "copy", sqlite_url, postgresql)
    assert copied.returncode == 0, copied.stderr
    total = sum(len(rows) for rows in source_rows.values())
    assert f"copied {total} rows in {len(source_rows)} tables" in copied.stdout
    assert await _rows(postgresql, tmp_path / "data") == source_rows

    on_postgresql = {**here.env, "DATABASE_URL": postgresql}
    audit = await asyncio.to_thread(meeting_cli, on_postgresql, "audit", "verify")
    assert audit.returncode == 0 and audit.stdout.startswith("audit ok"), audit.stdout + audit.stderr

    # The server on PostgreSQL shows the same meeting, and new rows take the ids after the copied ones.
    process, urls = await start_server(on_postgresql)
    try:
        async with api_as(Settings.from_env(on_postgresql), urls.http, api.ids) as again:
            assert await _record(again, council, docs) == before
            item = await again.ok("POST", f"{council.url}/agenda", "secretary", json={"title": "Mục mới"})
            assert item["id"] == max(row[0] for row in source_rows["agenda_items"]) + 1
            closed = await again.ok("POST", f"{council.url}/polls/{secret['id']}/close", "chair")
            assert closed["result"]["ballots"] == 1  # the sealed ballot opens with the same key
    finally:
        stop_server(process)
    audit = await asyncio.to_thread(meeting_cli, on_postgresql, "audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr

    # And back to a new SQLite file: the same rows as PostgreSQL holds now.
    back_url = f"sqlite:///{tmp_path / 'back.sqlite3'}"
    back = await asyncio.to_thread(meeting_cli, here.env, "db", "copy", postgresql, back_url)
    assert back.returncode == 0, back.stderr
    assert await _rows(back_url, tmp_path / "data") == await _rows(postgresql, tmp_path / "data")
    # The search index is no table of the models: the copy's triggers built it, one row per page.
    with contextlib.closing(sqlite3.connect(tmp_path / "back.sqlite3")) as back_db:
        pages = back_db.execute("SELECT count(*) FROM document_pages").fetchone()[0]
        indexed = back_db.execute("SELECT count(*) FROM document_pages_fts").fetchone()[0]
        found = back_db.execute(
            "SELECT count(*) FROM document_pages_fts WHERE document_pages_fts MATCH 'folded : trang'"
        ).fetchone()[0]
    assert pages and indexed == pages and found


@needs_postgresql
async def test_a_copy_into_a_database_with_rows_is_refused_and_changes_nothing(
    tmp_path: Path, postgresql: str
) -> None:
    here = deployment(tmp_path / "data")
    await migrate(here.settings)
    async with serve(here.settings) as server, api_for(here.settings, server.http) as api:
        await api.user("secretary")
    sqlite_url = f"sqlite:///{tmp_path / 'data' / 'meeting.sqlite3'}"
    assert (
        await asyncio.to_thread(meeting_cli, here.env, "db", "copy", sqlite_url, postgresql)
    ).returncode == 0
    target = await _rows(postgresql, tmp_path / "data")

    again = await asyncio.to_thread(meeting_cli, here.env, "db", "copy", sqlite_url, postgresql)
    assert again.returncode == 1
    assert "is not empty (table users has rows)" in again.stderr
    assert await _rows(postgresql, tmp_path / "data") == target


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not a url", "sqlite:///{tmp}/to.sqlite3"], "'not a url' is not a database URL"),
        (["sqlite:///{tmp}/missing.sqlite3", "sqlite:///{tmp}/to.sqlite3"], "no such SQLite file"),
        (
            ["sqlite:///{tmp}/data/meeting.sqlite3", "sqlite:///{tmp}/data/meeting.sqlite3"],
            "the same database",
        ),
        (["sqlite:///{tmp}/empty.sqlite3", "sqlite:///{tmp}/to.sqlite3"], "has no schema yet"),
    ],
)
async def test_bad_copy_arguments_say_why_and_write_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    here = deployment(tmp_path / "data")
    await migrate(here.settings)
    (tmp_path / "empty.sqlite3").touch()
    done = await asyncio.to_thread(
        meeting_cli, here.env, "db", "copy", *(a.format(tmp=tmp_path) for a in args)
    )
    assert done.returncode == 1
    assert message in done.stderr
    assert not (tmp_path / "to.sqlite3").exists() or (tmp_path / "to.sqlite3").stat().st_size == 0
