"""Two real server processes sharing PostgreSQL and Redis: the room works across them."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

import httpx
import pytest

from meeting.users.models import GlobalRole
from tests.support.api import MEETING, Api, add_document, api_for
from tests.support.backends import TEST_REDIS_URL, empty_tables, needs_postgresql_and_redis
from tests.support.servers import deployment, server_processes
from tests.support.sockets import join

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.support.servers import Server

pytestmark = [pytest.mark.slow, needs_postgresql_and_redis]


@pytest.fixture
async def two_servers(postgres_url: str, tmp_path: Path) -> AsyncIterator[tuple[Server, Server, Api]]:
    """Two `meeting serve`-style processes on one private database and one Redis, plus an Api on the first."""
    await empty_tables(postgres_url)
    assert TEST_REDIS_URL is not None
    here = deployment(tmp_path, DATABASE_URL=postgres_url, REDIS_URL=TEST_REDIS_URL)
    async with server_processes(here.env, 2) as [(_, a), (_, b)], api_for(here.settings, a.http) as api:
        yield a, b, api


async def test_page_turn_and_annotation_cross_processes(two_servers: tuple[Server, Server, Api]) -> None:
    a, b, api = two_servers
    await api.user("secretary", GlobalRole.secretary)
    for name in ("chair", "delegate1"):
        await api.user(name)
    meeting = await api.ok("POST", "/api/meetings", "secretary", json=MEETING)
    url = f"/api/meetings/{meeting['id']}"
    await api.ok(
        "POST", f"{url}/participants", "secretary", json={"userId": api.ids["chair"], "role": "chair"}
    )
    await api.ok(
        "POST", f"{url}/participants", "secretary", json={"userId": api.ids["delegate1"], "role": "delegate"}
    )

    doc = await add_document(api, meeting["id"], pages=6)
    presenter, _ = await join(a, api, meeting["id"], "chair")
    delegate, snapshot = await join(b, api, meeting["id"], "delegate1")
    await presenter.until("presence.changed", userId=api.ids["delegate1"])  # seen across processes
    page = {
        "type": "page.turn",
        "documentId": doc.document_id,
        "versionId": doc.version_id,
        "page": 6,
        "ref": "t",
    }
    await presenter.send(page)
    moved = await delegate.until("page.turn")
    assert moved["presenter"]["page"] == 6 and moved["seq"] > snapshot["seq"]

    shared = {
        "type": "annotation.add",
        "id": secrets.token_hex(8),
        "documentId": doc.document_id,
        "versionId": doc.version_id,
        "page": 6,
        "kind": "highlight",
        "visibility": "shared",
        "payload": {"rects": [[0.1, 0.1, 0.2, 0.2]]},
        "ref": "a",
    }
    await delegate.send(shared)
    seen = await presenter.until("annotation.add")
    assert seen["annotation"]["id"] == shared["id"]
    # A private note of the chair's reaches the chair's socket on the other process, and nobody else.
    laptop, _ = await join(b, api, meeting["id"], "chair")
    private = {
        **shared,
        "id": secrets.token_hex(8),
        "kind": "note",
        "visibility": "private",
        "payload": {"x": 0.2, "y": 0.3, "text": "riêng"},
    }
    await presenter.send(private)
    mirrored = await laptop.until("annotation.add")
    assert mirrored["annotation"]["id"] == private["id"] and mirrored["seq"] == 0
    assert not [m for m in await delegate.quiet() if "riêng" in str(m)]
    async with httpx.AsyncClient(base_url=b.http) as other:
        listed = (await other.get(doc.annotations_url, headers=api.headers("delegate1"))).json()
    assert [x["id"] for p in listed["pages"] for x in p["annotations"]] == [shared["id"]]
    for sock in (presenter, delegate, laptop):
        await sock.close()
