"""Room fixtures: a real uvicorn server on a loopback port, HTTP and WebSocket clients talking to it.

The app runs in the test's own event loop (not the test client's portal thread), so events published by
HTTP calls and those relayed to sockets go through one and the same broker.
"""

from __future__ import annotations

import dataclasses
import gc
import secrets
from typing import TYPE_CHECKING

import httpx
import pytest

from meeting.users.models import GlobalRole
from tests.support.api import Api, Council, DocumentRef, add_document, build_council
from tests.support.backends import BROKER_BACKENDS, TEST_REDIS_URL
from tests.support.servers import serve
from tests.support.sockets import TIMEOUT

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings
    from tests.support.servers import Server


@pytest.fixture(params=BROKER_BACKENDS)
async def server(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Server]:
    """The app served on a loopback port for the duration of a test, on each broker backend."""
    if request.param == "redis":
        # Own channel and key names: other test runs may share this Redis.
        settings = dataclasses.replace(
            settings, redis_url=TEST_REDIS_URL, channel_namespace=f"test{secrets.token_hex(4)}"
        )
    async with serve(settings) as urls:
        yield urls
    gc.collect()  # report anything left open against this test, not a later one


@pytest.fixture
async def rapi(server: Server, db: AsyncSession, settings: Settings) -> AsyncIterator[Api]:
    """An Api talking HTTP to the running server, with an administrator `admin`."""
    async with httpx.AsyncClient(base_url=server.http, timeout=TIMEOUT) as client:
        helper = Api(client=client, db=db, settings=settings)
        await helper.user("admin", GlobalRole.admin)
        yield helper


@pytest.fixture
async def room(rapi: Api) -> Council:
    """The council meeting (secretary, chair, delegate1, delegate2, guest; outsider not invited)."""
    return await build_council(rapi)


@pytest.fixture
async def doc(room: Council) -> DocumentRef:
    """A real 10-page document of the council meeting: what page turns and annotations refer to."""
    return await add_document(room.api, room.meeting_id, pages=10)
