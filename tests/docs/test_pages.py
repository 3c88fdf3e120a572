"""Page images: sizes, caching headers, cookie authentication, background rendering and its progress."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING

import msgspec
import pytest
from PIL import Image
from sqlalchemy import select

from meeting.broker import RoomEvent
from meeting.docs import document_progress
from meeting.users import SESSION_COOKIE
from tests.conftest import PASSWORD
from tests.docs.conftest import make_pdf, upload

if TYPE_CHECKING:
    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings
    from tests.conftest import Council


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
    payloads = await db.scalars(select(RoomEvent.payload).where(RoomEvent.type == "document.render_progress"))
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
