"""Fault fixtures: a private data dir and environment for real server processes, and an Api on them."""

from __future__ import annotations

import asyncio
import os
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest

from meeting.db import create_engine, create_session_factory
from meeting.migrations import upgrade
from meeting.settings import Settings
from meeting.users.models import GlobalRole
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, _truncate_all
from tests.rooms.conftest import RoomApi

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.rooms.conftest import Server

pytestmark = pytest.mark.slow


@dataclass
class Deployment:
    """What a server process is started with, and the same settings seen from the test."""

    env: dict[str, str]
    settings: Settings


@pytest.fixture(params=["embedded"] + (["postgresql+redis"] if TEST_DATABASE_URL and TEST_REDIS_URL else []))
def backend(request: pytest.FixtureRequest) -> dict[str, str]:
    """Extra environment for `deployment`: the embedded default, or production's PostgreSQL and Redis
    (this run's own emptied database; the deployment's own channel and key namespace)."""
    if request.param == "embedded":
        return {}
    postgres_url: str = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate_all(postgres_url))
    assert TEST_REDIS_URL is not None
    return {"DATABASE_URL": postgres_url, "REDIS_URL": TEST_REDIS_URL}


def deployment(tmp_path: Path, **extra: str) -> Deployment:
    """A private data dir and signing key (SQLite embedded unless DATABASE_URL is given)."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "MEETING_SECRET_KEY": secrets.token_urlsafe(48),
        "MEETING_DATA_DIR": str(tmp_path / "data"),
        "MEETING_CHANNEL_NAMESPACE": f"fault{secrets.token_hex(4)}",
        **extra,
    }
    return Deployment(env=env, settings=Settings.from_env(env))


async def migrate(settings: Settings) -> None:
    """`meeting db upgrade` (in a thread: Alembic runs its own event loop)."""
    await asyncio.to_thread(upgrade, settings)


@asynccontextmanager
async def api_for(settings: Settings, server: Server) -> AsyncIterator[RoomApi]:
    """An Api minting tokens straight into the deployment's database, talking HTTP to `server`."""
    engine = create_engine(settings)
    try:
        async with (
            create_session_factory(engine)() as session,
            httpx.AsyncClient(base_url=server.http, timeout=10) as client,
        ):
            api = RoomApi(client=client, db=session, settings=settings)
            await api.user("admin", GlobalRole.admin)
            yield api
    finally:
        await engine.dispose()
