"""Room fixtures: a real uvicorn server on a loopback port, HTTP and WebSocket clients talking to it.

The app runs in the test's own event loop (not the test client's portal thread), so events published by
HTTP calls and those relayed to sockets go through one and the same broker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import secrets
import socket as socketlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from meeting.app import create_app
from meeting.users.models import GlobalRole, User
from meeting.users.service import new_token
from tests.conftest import (
    BROKER_BACKENDS,
    PASSWORD_HASH,
    TEST_REDIS_URL,
    Api,
    Council,
    build_council,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings

TIMEOUT = 5.0


def free_port() -> int:
    """A free TCP port on loopback."""
    with socketlib.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running server: its base URLs."""

    http: str
    ws: str


async def serve(settings: Settings) -> tuple[uvicorn.Server, asyncio.Task[None], Server]:
    """Start the app under uvicorn in this event loop, as `meeting serve` would."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        ws_max_size=1024 * 1024,
        lifespan="on",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(_serve_then_release(server, config.app))
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    return server, task, Server(http=f"http://127.0.0.1:{port}", ws=f"ws://127.0.0.1:{port}")


async def _serve_then_release(server: uvicorn.Server, app: Any) -> None:
    """Serve until told to stop, then close every Redis connection the app still holds.

    Socket handlers finishing during shutdown may take a connection after the lifespan closed the
    pool; releasing them here keeps the next test free of the unclosed-socket warnings.
    """
    try:
        await server.serve()
    finally:
        redis = app.state.broker.redis
        if redis is not None:
            await redis.connection_pool.disconnect()


@pytest.fixture(params=BROKER_BACKENDS)
async def server(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Server]:
    """The app served on a loopback port for the duration of a test, on each broker backend."""
    if request.param == "redis":
        # Own channel and key names: other test runs may share this Redis.
        settings = dataclasses.replace(
            settings, redis_url=TEST_REDIS_URL, channel_namespace=f"test{secrets.token_hex(4)}"
        )
    running, task, urls = await serve(settings)
    yield urls
    running.should_exit = True
    await asyncio.wait_for(task, 15)
    gc.collect()  # report anything left open against this test, not a later one


@dataclass
class RoomApi(Api):
    """An Api whose users get their tokens minted directly: no argon2 and no login limiter per test."""

    settings: Settings | None = None

    async def user(self, username: str, role: GlobalRole = GlobalRole.user) -> int:
        """Create an account directly in the database and issue it a token."""
        assert self.settings is not None
        user = User(username=username, display_name=username.title(), role=role, password_hash=PASSWORD_HASH)
        self.db.add(user)
        await self.db.commit()
        self.tokens[username] = new_token(self.settings, self.settings.resolved_secret_key(), user)[0]
        self.ids[username] = user.id
        return user.id


@pytest.fixture
async def rapi(server: Server, db: AsyncSession, settings: Settings) -> AsyncIterator[Api]:
    """An Api talking HTTP to the running server, with `admin` logged in."""
    async with httpx.AsyncClient(base_url=server.http, timeout=TIMEOUT) as client:
        helper = RoomApi(client=client, db=db, settings=settings)  # type: ignore[arg-type]  # same interface

        await helper.user("admin", GlobalRole.admin)
        yield helper


@pytest.fixture
async def room(rapi: Api) -> Council:
    """The council meeting (secretary, chair, delegate1, delegate2, guest; outsider not invited)."""
    return await build_council(rapi)


class Socket:
    """A test's WebSocket client: JSON in, JSON out, with timeouts so a missing message fails the test."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.seen: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any] | str) -> None:
        """Send a message (a dict is JSON-encoded; a str goes as is)."""
        await self.connection.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next message."""
        raw = await asyncio.wait_for(self.connection.recv(), timeout)
        message: dict[str, Any] = json.loads(raw)
        self.seen.append(message)
        return message

    async def until(self, type_: str, timeout: float = TIMEOUT, **match: Any) -> dict[str, Any]:
        """Skip messages until one of this type (and these top-level field values) arrives."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.recv(max(0.01, deadline - loop.time()))
            if message["type"] == type_ and all(message.get(k) == v for k, v in match.items()):
                return message

    async def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Everything that arrives within `seconds` (to check that something did NOT arrive)."""
        got: list[dict[str, Any]] = []
        try:
            while True:
                got.append(await self.recv(seconds))
        except TimeoutError:
            return got

    async def closed(self, timeout: float = TIMEOUT) -> tuple[int | None, str]:
        """Wait for the server to close; returns (code, reason)."""
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), timeout)
        except ConnectionClosed as exc:
            return (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (None, "")

    async def close(self) -> None:
        """Close from the client side."""
        await self.connection.close()


async def open_socket(
    server: Server, meeting_id: int, *, headers: dict[str, str] | None = None, origin: str | None = None
) -> Socket:
    """Open a raw socket to a meeting (not yet authenticated)."""
    connection = await connect(
        f"{server.ws}/api/meetings/{meeting_id}/socket",
        additional_headers=headers,
        origin=origin,  # type: ignore[arg-type]
        open_timeout=TIMEOUT,
        max_size=None,
    )
    return Socket(connection)


async def join(
    server: Server, api: Api, meeting_id: int, username: str, last_seq: int | None = None
) -> tuple[Socket, dict[str, Any]]:
    """Open a socket, authenticate as a user, and return it with the first message (snapshot or replay)."""
    sock = await open_socket(server, meeting_id)
    auth: dict[str, Any] = {"type": "auth", "token": api.tokens[username]}
    if last_seq is not None:
        auth["lastSeq"] = last_seq
    await sock.send(auth)
    return sock, await sock.recv()
