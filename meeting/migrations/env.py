"""Alembic environment: runs migrations over the async engine, in batch mode on SQLite."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal

from alembic import context
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from meeting.db import UtcDateTime, enable_wal
from meeting.migrations import include_name
from meeting.models import metadata

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

config = context.config


def _render_item(kind: str, obj: Any, _context: Any) -> str | Literal[False]:
    # Migrations name plain SQLAlchemy types, so they never import application code.
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(config.attributes["database_url"])
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", enable_wal)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_run_async())
