"""Uploading, replacing and deleting documents."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING

import msgspec
import pytest
from sqlalchemy import func, select

from meeting.broker import RoomEvent
from meeting.docs.models import Document, DocumentVersion
from meeting.docs.service import MAX_IMAGES
from tests.support.api import upload
from tests.support.files import make_image, make_pdf, stored_files
from tests.support.servers import served_client

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings
    from tests.support.api import Council


async def _event_types(db: AsyncSession, meeting_id: int) -> list[str]:
    rows = await db.scalars(
        select(RoomEvent.type).where(RoomEvent.meeting_id == meeting_id).order_by(RoomEvent.seq)
    )
    return list(rows)


async def test_secretary_uploads_pdf_titled_by_its_vietnamese_file_name(
    council: Council, db: AsyncSession, vietnamese_pdf: bytes
) -> None:
    response = await upload(council, [("Tờ trình số 12.pdf", vietnamese_pdf, "application/pdf")])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["title"] == "Tờ trình số 12"
    assert body["currentVersion"]["fileName"] == "Tờ trình số 12.pdf"
    assert body["currentVersion"]["pageCount"] == 2
    assert body["currentVersion"]["textlessPages"] == []
    listed = await council.api.ok("GET", f"{council.url}/documents", "delegate1")
    assert [d["id"] for d in listed] == [body["id"]]
    assert "document.added" in await _event_types(db, council.meeting_id)


async def test_upload_binds_to_an_agenda_item_with_a_given_title(
    council: Council, vietnamese_pdf: bytes
) -> None:
    item = await council.api.ok("POST", f"{council.url}/agenda", "secretary", json={"title": "Dự toán 2027"})
    response = await upload(council, vietnamese_pdf, agendaItemId=item["id"], title="Dự thảo nghị quyết")
    assert response.status_code == 201, response.text
    assert response.json()["agendaItemId"] == item["id"]
    assert response.json()["title"] == "Dự thảo nghị quyết"


async def test_agenda_item_of_another_meeting_is_refused(council: Council, vietnamese_pdf: bytes) -> None:
    response = await upload(council, vietnamese_pdf, agendaItemId=9999)
    assert response.status_code == 422
    assert "agenda item 9999" in response.json()["detail"]


async def test_same_content_uploaded_twice_is_stored_once(
    council: Council, settings: Settings, vietnamese_pdf: bytes
) -> None:
    first = (await upload(council, vietnamese_pdf)).json()
    second = (await upload(council, vietnamese_pdf)).json()
    assert first["id"] != second["id"]
    assert first["currentVersion"]["sha256"] == second["currentVersion"]["sha256"]
    assert len([p for p in stored_files(settings.data_dir) if p.suffix == ".pdf"]) == 1
    assert not list((settings.data_dir / "documents" / "tmp").iterdir())


async def test_images_become_one_document_with_a_page_each(council: Council) -> None:
    files = [
        ("trang-1.jpg", make_image("JPEG"), "image/jpeg"),
        ("trang-2.png", make_image("PNG", (560, 400)), "image/png"),
    ]
    response = await upload(council, files)
    assert response.status_code == 201, response.text
    version = response.json()["currentVersion"]
    assert version["pageCount"] == 2
    # Scans have no text layer: flagged, not searchable.
    assert version["textlessPages"] == [1, 2]
    assert version["fileName"] == "trang-1.pdf"


async def test_a_scan_of_the_most_images_becomes_a_document_and_one_more_is_refused(
    council: Council, db: AsyncSession
) -> None:
    image = make_image("JPEG", (60, 80))
    most = [(f"trang-{n}.jpg", image, "image/jpeg") for n in range(1, MAX_IMAGES + 1)]
    response = await upload(council, most)
    assert response.status_code == 201, response.text
    assert response.json()["currentVersion"]["pageCount"] == MAX_IMAGES
    response = await upload(council, [*most, ("one-more.jpg", image, "image/jpeg")])
    assert response.status_code == 422
    assert response.json()["code"] == "document.too_many_images"
    assert await db.scalar(select(func.count()).select_from(Document)) == 1


async def test_other_file_types_get_415_naming_the_accepted_ones(council: Council) -> None:
    files = [("bien-ban.txt", b"PK\x03\x04 not a pdf", "text/plain")]
    response = await upload(council, files)
    assert response.status_code == 415
    assert "PDF, JPEG, PNG" in response.json()["detail"]


async def test_pdf_and_images_cannot_be_mixed(council: Council, vietnamese_pdf: bytes) -> None:
    files = [("a.pdf", vietnamese_pdf, "application/pdf"), ("b.jpg", make_image(), "image/jpeg")]
    response = await upload(council, files)
    assert response.status_code == 422


@pytest.mark.docs_settings(upload_limit_bytes=50_000)
async def test_upload_past_the_size_limit_gets_413_and_leaves_nothing(
    council: Council, settings: Settings, db: AsyncSession
) -> None:
    big = make_pdf(paragraphs=["Nội dung dài. " * 2000] * 4, pages=4) + b"\n%" + b"x" * 60_000
    response = await upload(council, big)
    assert response.status_code == 413
    assert stored_files(settings.data_dir) == []
    assert await db.scalar(select(func.count()).select_from(Document)) == 0


@pytest.mark.parametrize("who", ["chair", "secretary", "admin"])
async def test_managers_may_upload(council: Council, vietnamese_pdf: bytes, who: str) -> None:
    assert (await upload(council, vietnamese_pdf, as_=who)).status_code == 201


@pytest.mark.parametrize("who", ["delegate1", "guest"])
async def test_delegates_and_guests_may_not_upload_replace_or_delete(
    council: Council, vietnamese_pdf: bytes, who: str
) -> None:
    document = (await upload(council, vietnamese_pdf)).json()
    assert (await upload(council, vietnamese_pdf, as_=who)).status_code == 403
    url = f"{council.url}/documents/{document['id']}"
    files = [("file", ("v2.pdf", vietnamese_pdf, "application/pdf"))]
    assert (await council.api.call("POST", f"{url}/versions", who, files=files)).status_code == 403
    assert (await council.api.call("DELETE", url, who)).status_code == 403


async def test_replacing_creates_a_new_version_and_keeps_the_old_one_readable(
    council: Council, db: AsyncSession, vietnamese_pdf: bytes
) -> None:
    document = (await upload(council, vietnamese_pdf)).json()
    url = f"{council.url}/documents/{document['id']}"
    new_pdf = make_pdf("Nghị quyết số 12 (sửa đổi)", pages=3)
    files = [("file", ("Nghị quyết sửa đổi.pdf", new_pdf, "application/pdf"))]
    replaced = await council.api.ok("POST", f"{url}/versions", "secretary", files=files)
    assert replaced["id"] == document["id"]
    assert replaced["currentVersion"]["number"] == 2
    assert replaced["currentVersion"]["pageCount"] == 3
    assert replaced["versionIds"] == [document["currentVersion"]["id"], replaced["currentVersion"]["id"]]
    old_page = await council.api.call("GET", f"{document['currentVersion']['pagesUrl']}/2", "delegate1")
    assert old_page.status_code == 200
    assert "document.changed" in await _event_types(db, council.meeting_id)
    assert await db.scalar(select(func.count()).select_from(DocumentVersion)) == 2


async def test_deleted_document_leaves_listing_search_and_pages(
    council: Council, db: AsyncSession, vietnamese_pdf: bytes
) -> None:
    document = (await upload(council, vietnamese_pdf)).json()
    url = f"{council.url}/documents/{document['id']}"
    assert (await council.api.call("DELETE", url, "secretary")).status_code == 204
    assert await council.api.ok("GET", f"{council.url}/documents", "delegate1") == []
    assert await council.api.ok("GET", f"{council.url}/search", "delegate1", params={"q": "quyet dinh"}) == []
    assert (await council.api.call("GET", url, "delegate1")).status_code == 404
    assert (
        await council.api.call("GET", f"{document['currentVersion']['pagesUrl']}/1", "delegate1")
    ).status_code == 404
    removed = await db.scalar(select(RoomEvent.payload).where(RoomEvent.type == "document.removed"))
    assert removed is not None
    assert msgspec.json.decode(removed)["documentId"] == document["id"]


async def test_chunked_upload_without_length_is_cut_off_at_the_limit(
    council: Council, settings: Settings
) -> None:
    boundary = "----ranh-gioi"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="lon.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    ).encode()

    async def body() -> AsyncIterator[bytes]:
        yield head
        for _ in range(50):  # 50 × 10 kB and no Content-Length: only counting the bytes stops it
            yield b"%" * 10_000
        yield f"\r\n--{boundary}--\r\n".encode()

    async with served_client(dataclasses.replace(settings, upload_limit_bytes=100_000)) as http:
        response = await http.post(
            f"{council.url}/documents",
            content=body(),
            headers={
                **council.api.headers("secretary"),
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
    assert response.status_code == 413
    assert stored_files(settings.data_dir) == []


async def test_two_new_versions_at_once_never_share_a_number(council: Council, db: AsyncSession) -> None:
    created = (await upload(council, make_pdf("Bản 1"))).json()
    url = f"{council.url}/documents/{created['id']}/versions"

    async def new_version(title: str) -> int:
        files = [("file", (f"{title}.pdf", make_pdf(title), "application/pdf"))]
        return int((await council.api.call("POST", url, "secretary", files=files)).status_code)

    statuses = await asyncio.gather(*(new_version(f"Bản {n}") for n in range(2, 6)))
    assert set(statuses) <= {201, 409}, statuses
    numbers = list(
        await db.scalars(select(DocumentVersion.number).where(DocumentVersion.document_id == created["id"]))
    )
    assert sorted(numbers) == list(range(1, 2 + statuses.count(201)))
