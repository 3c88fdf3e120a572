"""Database: declarative base, engine and session factory, and the request-scoped session dependency."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.types import Scope  # at runtime: Litestar reads dependency signatures
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from meeting.errors import Code, NotFound

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Send

    from meeting.settings import Settings

# Stable constraint names so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored in UTC; SQLite returns naive values, so they are re-tagged."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a timezone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# How handlers ask for the request's session.
DbSession: TypeAlias = NamedDependency[AsyncSession]


MAX_ID = 2**63 - 1  # every table's ids are 64-bit signed integers


class OfMeeting(Protocol):
    """A row that belongs to one meeting."""

    @property
    def meeting_id(self) -> int: ...


RowT = TypeVar("RowT", bound=OfMeeting)


async def get_in_meeting(
    session: AsyncSession, model: type[RowT], row_id: object, meeting_id: int
) -> RowT | None:
    """The row with this id if it belongs to this meeting: another meeting's id is as good as unknown."""
    row = await session.get(model, row_id)
    return row if row is not None and row.meeting_id == meeting_id else None


async def get_or_404(
    session: AsyncSession, model: type[RowT], row_id: object, meeting_id: int, code: Code, what: str
) -> RowT:
    """The row of this meeting, or NotFound("<what> not found in meeting <id>") with the given code."""
    row = await get_in_meeting(session, model, row_id, meeting_id)
    if row is None:
        raise NotFound(code, f"{what} not found in meeting {meeting_id}")
    return row


def utcnow() -> dt.datetime:
    """The current time in UTC."""
    return dt.datetime.now(dt.UTC)


def create_engine(settings: Settings) -> AsyncEngine:
    """Create the async engine for the configured database."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 15}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # Connecting fails fast when PostgreSQL is away (a 503, never a hang); a burst (a whole council
    # voting at once) queues for a free connection instead of failing.
    # hide_parameters: a failed statement's message (logged) must not carry ballots or password hashes.
    return create_async_engine(
        url,
        hide_parameters=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=30,
        pool_pre_ping=True,
        connect_args={"timeout": 5, "command_timeout": 30},
    )


def enable_wal(dbapi_connection: Any, _record: Any = None) -> None:
    """Put a SQLite file in WAL mode (readers run beside the writer): `meeting db upgrade` does it once.

    WAL is a property of the file. Switching needs the database to itself, and even reading the mode
    touches the file: done on every connect, a server's first connections at start-up could fail with
    "database is locked" in set-up, where a failed connection is only terminated, not closed.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Settings of the connection alone (nothing here reads the file). Foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (we publish after committing)."""
    return async_sessionmaker(engine, expire_on_commit=False)


_SESSIONS = "meeting.db_sessions"  # the request scope's list of sessions to close


async def provide_db_session(state: State, scope: Scope) -> AsyncSession:
    """Litestar dependency: one session per request, closed by `close_sessions_middleware`.

    Not a generator dependency: when a later dependency of the same request fails (401, 403, 404 from
    the access checks), Litestar never runs a generator's cleanup, and its session would keep a pooled
    connection until the garbage collector found it.
    """
    factory: async_sessionmaker[AsyncSession] = state.session_factory
    session = factory()
    scope.setdefault(_SESSIONS, []).append(session)  # type: ignore[misc]  # our own scope key
    return session


def close_sessions_middleware(app: ASGIApp) -> ASGIApp:
    """Close the request's sessions once it is answered, whatever happened: anything a service did not
    commit is rolled back, and the connection goes back to the pool."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        finally:
            for session in scope.pop(_SESSIONS, ()):  # type: ignore[misc]  # our own scope key
                await session.close()

    return middleware
