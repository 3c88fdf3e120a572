"""Shared fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.

Each test run gets its own PostgreSQL database (created here, dropped at the end), so runs never collide;
each test starts from empty tables. The machinery behind the fixtures is in tests/support/.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from typing import TYPE_CHECKING, Any

import pytest

from meeting.app import create_app
from meeting.db import create_engine, create_session_factory
from meeting.migrations import upgrade
from meeting.settings import Settings
from meeting.users.models import GlobalRole
from tests.support.api import Api, Council, build_council
from tests.support.backends import (
    CHANNEL_NAMESPACE,
    DATABASE_BACKENDS,
    IN_CI,
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    create_database,
    drop_database,
    empty_tables,
)
from tests.support.servers import serve_in_process
from tests.support.signing import make_demo_ca

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    import httpx
    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession


def pytest_configure(config: pytest.Config) -> None:
    """Under CI=true the production backends are not optional."""
    if IN_CI and not (TEST_DATABASE_URL and TEST_REDIS_URL):
        raise pytest.UsageError("CI=true needs TEST_DATABASE_URL and TEST_REDIS_URL (.ci/run sets both)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Under CI=true a skip is a failure naming what was missing."""
    report: pytest.TestReport = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every tool must be present: {reason}"
    return report


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is much faster)."""
    data_dir = tmp_path_factory.mktemp("sqlite-template")
    upgrade(Settings(data_dir=data_dir))
    return data_dir / "meeting.sqlite3"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test run's own on the TEST_DATABASE_URL server, migrated, dropped afterwards."""
    url = create_database()
    upgrade(Settings(database_url=url))
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def demo_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's demo CA (root, secretary, chair), copied into the data directory of each test that signs."""
    return make_demo_ca(tmp_path_factory.mktemp("demo-ca-template") / "demo-ca")


@pytest.fixture(params=DATABASE_BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for one test on one database backend, with its own data directory."""
    common: dict[str, Any] = {
        "data_dir": tmp_path,
        "secret_key": secrets.token_urlsafe(64),
        # Pub/sub channels are global in Redis: keep concurrent test runs apart.
        "channel_namespace": CHANNEL_NAMESPACE,
    }
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / "meeting.sqlite3")
        return Settings(**common)
    url = request.getfixturevalue("postgres_url")
    asyncio.run(empty_tables(url))
    return Settings(database_url=url, **common)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    """The application under test."""
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client running the app in-process (lifespan included)."""
    async with serve_in_process(app) as http:
        yield http


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session on the test database, for arranging and inspecting stored rows."""
    engine = create_engine(settings)
    async with create_session_factory(engine)() as session:
        yield session
    await engine.dispose()


@pytest.fixture
async def api(app: Litestar, client: httpx.AsyncClient, db: AsyncSession) -> Api:
    """An Api on the in-process app (tokens signed with the app's own key), with an administrator `admin`."""
    helper = Api(client=client, db=db, settings=app.state.settings)
    await helper.user("admin", GlobalRole.admin)
    return helper


@pytest.fixture
async def council(api: Api) -> Council:
    """A meeting with a chair, two delegates and a guest invited by its secretary; `outsider` is not."""
    return await build_council(api)
