"""Shared fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.

Each test run gets its own PostgreSQL database (created here, dropped at the end), so runs never collide;
each test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

from meeting.app import create_app
from meeting.db import create_engine, create_session_factory
from meeting.migrations import upgrade
from meeting.models import metadata
from meeting.settings import Settings, normalize_database_url
from meeting.users.models import GlobalRole, User

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
DATABASE_BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
BROKER_BACKENDS = ["memory"] + (["redis"] if TEST_REDIS_URL else [])
PASSWORD = "correct horse battery"
CHANNEL_NAMESPACE = f"test-{os.getpid()}-{secrets.token_hex(4)}"
# One argon2 hash for every test user: hashing is deliberately slow.
PASSWORD_HASH = PasswordHasher().hash(PASSWORD)
# CI proves everything: there a test that would skip for a missing tool or service fails instead.
IN_CI = os.environ.get("CI", "").lower() == "true"


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
    assert TEST_DATABASE_URL is not None
    server = make_url(normalize_database_url(TEST_DATABASE_URL))
    name = f"meeting_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade(Settings(database_url=url))
    yield url
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
    asyncio.run(_truncate_all(url))
    return Settings(database_url=url, **common)


async def _truncate_all(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    await engine.dispose()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    """The application under test."""
    return create_app(settings)


@asynccontextmanager
async def serve_in_process(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and an HTTP client on this test's event loop.

    (Litestar's AsyncTestClient runs the lifespan on a thread of its own, so the engine would be closed
    from another loop than the one its connections belong to.)
    """
    started, stopping = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        # Enter and leave the lifespan in one task: it holds cancel scopes that must not change task.
        async with app.lifespan():
            started.set()
            await stopping.wait()

    lifespan = asyncio.create_task(run_lifespan())
    await asyncio.wait([lifespan, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
    if lifespan.done():
        lifespan.result()  # startup failed: raise its error here
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        stopping.set()
        await lifespan


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


@dataclass
class Api:
    """The HTTP client plus one bearer token per user, so tests read like the people acting."""

    client: httpx.AsyncClient
    db: AsyncSession
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    async def user(self, username: str, role: GlobalRole = GlobalRole.user) -> int:
        """Create an account directly in the database and log it in."""
        user = User(username=username, display_name=username.title(), role=role, password_hash=PASSWORD_HASH)
        self.db.add(user)
        await self.db.commit()
        response = await self.client.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.tokens[username] = response.json()["access_token"]
        self.ids[username] = user.id
        # The test client keeps cookies; tests authenticate explicitly with headers instead.
        self.client.cookies.clear()
        return user.id

    def headers(self, username: str | None) -> dict[str, str]:
        """Authorization headers for a user (none for None)."""
        return {"Authorization": f"Bearer {self.tokens[username]}"} if username else {}

    async def call(self, method: str, url: str, as_: str | None, **kwargs: Any) -> Any:
        """Send a request as a user."""
        headers = {**self.headers(as_), **kwargs.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def ok(self, method: str, url: str, as_: str | None, **kwargs: Any) -> Any:
        """Send a request that must succeed; return its JSON body (None for 204)."""
        response = await self.call(method, url, as_, **kwargs)
        assert response.status_code < 300, f"{method} {url} as {as_}: {response.status_code} {response.text}"
        return response.json() if response.content else None


@pytest.fixture
async def api(client: httpx.AsyncClient, db: AsyncSession) -> Api:
    """An Api with an administrator already logged in as `admin`."""
    helper = Api(client=client, db=db)
    await helper.user("admin", GlobalRole.admin)
    return helper


MEETING = {
    "title": "Kỳ họp thứ 12 — HĐND huyện",
    "startsAt": "2026-12-01T08:00:00+07:00",
    "endsAt": "2026-12-01T17:00:00+07:00",
    "location": "Hội trường tầng 3",
}


@dataclass
class Council:
    """A meeting with one person in each role, plus an outsider who is not invited."""

    api: Api
    meeting_id: int
    participant_ids: dict[str, int]

    @property
    def url(self) -> str:
        """The meeting's API path."""
        return f"/api/meetings/{self.meeting_id}"


@pytest.fixture
async def council(api: Api) -> Council:
    """A meeting with a chair, two delegates and a guest invited by its secretary; `outsider` is not."""
    return await build_council(api)


async def build_council(api: Api) -> Council:
    """Create the council's people and meeting through the API (see the `council` fixture)."""
    await api.user("secretary", GlobalRole.secretary)
    for name in ("chair", "delegate1", "delegate2", "guest", "outsider"):
        await api.user(name)
    meeting = await api.ok("POST", "/api/meetings", "secretary", json=MEETING)
    url = f"/api/meetings/{meeting['id']}"
    participant_ids = {}
    for name, role in (
        ("chair", "chair"),
        ("delegate1", "delegate"),
        ("delegate2", "delegate"),
        ("guest", "guest"),
    ):
        created = await api.ok(
            "POST", f"{url}/participants", "secretary", json={"userId": api.ids[name], "role": role}
        )
        participant_ids[name] = created["id"]
    listed = await api.ok("GET", f"{url}/participants", "secretary")
    participant_ids["secretary"] = next(p["id"] for p in listed if p["username"] == "secretary")
    return Council(api=api, meeting_id=meeting["id"], participant_ids=participant_ids)
