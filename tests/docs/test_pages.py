"""Page images: sizes, caching headers, cookie auth, background rendering, its progress, its resumption."""

from __future__ import annotations

import asyncio
import io
import os
import signal
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
import pytest
from PIL import Image
from sqlalchemy import select

from meeting.app import create_app
from meeting.broker import RoomEvent
from meeting.docs import DocumentVersion, document_progress
from meeting.docs.render import THUMBNAIL_WIDTH
from meeting.docs.schemas import DEFAULT_WIDTH
from meeting.docs.storage import BlobStore
from meeting.users import SESSION_COOKIE
from tests.support.api import PASSWORD, Api, Council, build_council, upload
from tests.support.files import make_pdf, slow_after_the_first_page
from tests.support.servers import serve_in_process, start_server, stop_server

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings


async def _uploaded(council: Council, pages: int = 3) -> dict[str, object]:
    response = await upload(council, make_pdf(pages=pages))
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    ("asked", "served"), [(None, 1280), (200, 200), (1000, 1280), (1900, 2048), (99999, 2048)]
)
async def test_page_is_a_jpeg_at_the_nearest_tablet_width(
    council: Council, asked: int | None, served: int
) -> None:
    document = await _uploaded(council, pages=1)
    url = f"{document['currentVersion']['pagesUrl']}/1"  # type: ignore[index]
    params = {"width": asked} if asked else {}
    response = await council.api.call("GET", url, "delegate1", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG"
    assert image.width == served
    assert image.height == round(served * 842 / 595) or abs(image.height - served * 842 / 595) <= 1


async def test_page_carries_strong_etag_and_immutable_cache_control_and_answers_304(
    council: Council, settings: Settings
) -> None:
    document = await _uploaded(council, pages=1)
    url = f"{document['currentVersion']['pagesUrl']}/1"  # type: ignore[index]
    first = await council.api.call("GET", url, "delegate1")
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["cache-control"] == "private, max-age=31536000, immutable"
    again = await council.api.call("GET", url, "delegate1", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    cached = list((settings.data_dir / "documents" / "pages").rglob("1-1280.jpg"))
    assert len(cached) == 1


async def test_page_image_works_with_the_session_cookie_alone(council: Council) -> None:
    document = await _uploaded(council, pages=1)
    url = f"{document['currentVersion']['pagesUrl']}/1"  # type: ignore[index]
    client = council.api.client
    login = await client.post("/api/auth/login", json={"username": "delegate1", "password": PASSWORD})
    assert SESSION_COOKIE in login.cookies
    response = await client.get(url)  # like an <img src>: no Authorization header
    assert response.status_code == 200
    client.cookies.clear()
    assert (await client.get(url)).status_code == 401


async def test_page_out_of_range_is_404_with_the_page_count(council: Council) -> None:
    document = await _uploaded(council, pages=2)
    response = await council.api.call("GET", f"{document['currentVersion']['pagesUrl']}/3", "delegate1")  # type: ignore[index]
    assert response.status_code == 404
    assert response.json()["detail"] == "page 3 is out of range (document has 2 pages)"


async def test_background_rendering_reports_progress_until_done(
    council: Council, app: Litestar, db: AsyncSession
) -> None:
    document = await _uploaded(council, pages=5)
    status_url = f"{council.url}/documents/{document['id']}/status"
    for _ in range(200):
        status = await council.api.ok("GET", status_url, "delegate1")
        if status["done"]:
            break
        await asyncio.sleep(0.05)
    assert status == {
        "documentId": document["id"],
        "versionId": document["currentVersion"]["id"],  # type: ignore[index]
        "title": "Nghị quyết số 12",
        "agendaItemId": None,
        "pageCount": 5,
        "renderedPages": 5,
        "done": True,
    }
    progress_events = select(RoomEvent.payload).where(RoomEvent.type == "document.render_progress")
    payloads = await db.scalars(progress_events.order_by(RoomEvent.seq))  # in the order they were sent
    progress = [msgspec.json.decode(p)["renderedPages"] for p in payloads]
    assert progress[0] == 1  # the first page is announced as soon as it is ready
    assert progress[-1] == 5
    assert progress == sorted(progress)
    listed = await document_progress(db, council.meeting_id)
    assert [(p.document_id, p.rendered_pages, p.done) for p in listed] == [(document["id"], 5, True)]


async def test_a_page_asked_for_before_its_turn_is_rendered_on_demand(council: Council) -> None:
    document = await _uploaded(council, pages=30)
    response = await council.api.call("GET", f"{document['currentVersion']['pagesUrl']}/30", "delegate1")  # type: ignore[index]
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).width == 1280


RESUME_SECONDS = 60.0  # 40 pages at two widths, on a loaded 2-core machine


async def _status(
    council: Council, document_id: int, until: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """Poll a document's status until `until` holds (at most RESUME_SECONDS); return the last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RESUME_SECONDS
    while True:
        status: dict[str, Any] = await council.api.ok(
            "GET", f"{council.url}/documents/{document_id}/status", "delegate1"
        )
        if until(status) or loop.time() > deadline:
            return status
        await asyncio.sleep(0.05)


async def test_rendering_cut_short_by_a_stop_is_finished_after_the_next_start(
    settings: Settings, db: AsyncSession
) -> None:
    pages = 4
    async with serve_in_process(create_app(settings)) as first:
        api = Api(client=first, db=db, settings=settings)
        council = await build_council(api)
        # Page 1 renders at once, the others slowly: the stop certainly comes while they render.
        response = await upload(council, slow_after_the_first_page(slow_pages=pages - 1))
        assert response.status_code == 201, response.text
        document: dict[str, Any] = response.json()
        # Stop the server once page 1 is announced: its shutdown cancels the rest of the render.
        status = await _status(council, document["id"], lambda s: s["renderedPages"] >= 1)
        assert status["renderedPages"] >= 1
    version: dict[str, Any] = document["currentVersion"]
    stored = await db.scalar(
        select(DocumentVersion.rendered_pages).where(DocumentVersion.id == version["id"])
    )
    await db.rollback()
    assert stored is not None and 1 <= stored < pages  # the premise: cut off part way

    async with serve_in_process(create_app(settings)) as second:
        council = Council(
            api=Api(client=second, db=db, settings=settings, tokens=api.tokens, ids=api.ids),
            meeting_id=council.meeting_id,
            participant_ids=council.participant_ids,
        )
        # A page asked for meanwhile is served, rendered on demand.
        response = await council.api.call("GET", f"{version['pagesUrl']}/{pages}", "delegate1")
        assert response.status_code == 200
        status = await _status(council, document["id"], lambda s: bool(s["done"]))
        assert (status["renderedPages"], status["done"]) == (pages, True)

    store = BlobStore(settings.data_dir)
    missing = [
        (page, width)
        for page in range(1, pages + 1)
        for width in (DEFAULT_WIDTH, THUMBNAIL_WIDTH)
        if not store.page_path(version["sha256"], page, width, "jpeg").is_file()
    ]
    assert missing == []
    progress_events = select(RoomEvent.payload).where(RoomEvent.type == "document.render_progress")
    payloads = await db.scalars(progress_events.order_by(RoomEvent.seq))  # in the order they were sent
    progress = [msgspec.json.decode(p)["renderedPages"] for p in payloads]
    assert progress == sorted(progress)  # the resumed render never announces less than was reached
    assert progress[-1] == pages


@pytest.mark.slow
async def test_rendering_cut_short_by_sigkill_is_finished_by_the_restarted_process(
    settings: Settings, db: AsyncSession
) -> None:
    pages = 40
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "MEETING_DATA_DIR": str(settings.data_dir),  # the test's own, migrated (SQLite) data folder
        "MEETING_SECRET_KEY": settings.resolved_secret_key(),
        "MEETING_CHANNEL_NAMESPACE": settings.channel_namespace,
        **({"DATABASE_URL": settings.database_url} if settings.database_url else {}),
    }
    process, server = await start_server(env)
    port = int(server.http.rsplit(":", 1)[1])
    try:
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as client:
            api = Api(client=client, db=db, settings=settings)
            council = await build_council(api)
            document: dict[str, Any] = await _uploaded(council, pages=pages)
            status = await _status(council, document["id"], lambda s: s["renderedPages"] >= 1)
            assert status["renderedPages"] >= 1
            process.send_signal(signal.SIGKILL)
            process.wait(15)
            stored = await db.scalar(
                select(DocumentVersion.rendered_pages).where(
                    DocumentVersion.id == document["currentVersion"]["id"]
                )
            )
            await db.rollback()
            assert stored is not None and stored < pages  # the premise: killed part way

            process, server = await start_server(env, port=port)
            status = await _status(council, document["id"], lambda s: bool(s["done"]))
            assert (status["renderedPages"], status["done"]) == (pages, True)
    finally:
        stop_server(process)
    store = BlobStore(settings.data_dir)
    sha256 = document["currentVersion"]["sha256"]
    assert all(store.page_path(sha256, page, DEFAULT_WIDTH, "jpeg").is_file() for page in range(1, pages + 1))
