"""Alembic migrations, driven from code so no alembic.ini is needed: `meeting db upgrade`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from meeting.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent
# The search index (0012_search) is not a model: the FTS5 table and its shadow tables on SQLite, the
# expression index on PostgreSQL. Comparisons of the schema with the models leave them alone.
SEARCH_INDEX = frozenset(
    {"document_pages_fts", "ix_document_pages_search"}
    | {f"document_pages_fts_{part}" for part in ("data", "idx", "content", "docsize", "config")}
)


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's filter: everything but the search index."""
    return not (type_ in ("table", "index") and name in SEARCH_INDEX)


def alembic_config(settings: Settings) -> Config:
    """An Alembic configuration pointing at our migrations and the configured database."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = url
    return config


def upgrade(settings: Settings, revision: str = "heads") -> None:
    """Bring the database schema up to date."""
    command.upgrade(alembic_config(settings), revision)


def make_revision(settings: Settings, message: str) -> None:
    """Autogenerate a new migration from the difference between the models and the database."""
    command.revision(alembic_config(settings), message=message, autogenerate=True)


def current_revisions(settings: Settings) -> tuple[str, ...]:
    """The revisions the database is at (none before its first migration)."""

    from meeting.db import create_engine

    async def read() -> tuple[str, ...]:
        engine = create_engine(settings)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: tuple(MigrationContext.configure(sync).get_current_heads())
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())


def needs_upgrade(settings: Settings) -> str | None:
    """Why the database is not at this version's schema, as an operator's next step; None when it is."""
    script = ScriptDirectory.from_config(alembic_config(settings))
    heads = set(script.get_heads())
    current = set(current_revisions(settings))
    if current == heads:
        return None
    url = make_url(settings.resolved_database_url)
    where = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)
    if not current:
        return f"the database {where} has no schema yet: run `meeting db upgrade` first"
    unknown = sorted(r for r in current if r not in {s.revision for s in script.walk_revisions()})
    if unknown:
        return (
            f"the database {where} is at revision {', '.join(unknown)}, which this version does not know "
            "(a newer version migrated it): run that version, or restore a backup taken before"
        )
    return (
        f"the database {where} is at revision {', '.join(sorted(current))} and this version needs "
        f"{', '.join(sorted(heads))}: take a backup (`meeting backup FILE`), then run `meeting db upgrade`"
    )
