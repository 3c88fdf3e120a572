"""Alembic migrations, driven from code so no alembic.ini is needed: `meeting db upgrade`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from meeting.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent


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
