"""Downloads: a stamped copy for participants, the original for managers, every download audited."""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING
from urllib.parse import unquote

import pymupdf
import pytest
from sqlalchemy import select

from meeting.docs.models import DocumentDownload
from tests.support.api import upload
from tests.support.files import active_content, active_pdf, make_pdf

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tests.support.api import Council


@pytest.fixture
async def document(council: Council) -> dict[str, object]:
    """A three-page resolution with a Vietnamese file name."""
    response = await upload(council, [("Nghị quyết số 12.pdf", make_pdf(pages=3), "application/pdf")])
    return dict(response.json())


async def _downloaded_text(council: Council, document_id: object, as_: str = "delegate1") -> list[str]:
    response = await council.api.call("GET", f"{council.url}/documents/{document_id}/download", as_)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    with pymupdf.open(stream=response.content, filetype="pdf") as pdf:
        return [page.get_text() for page in pdf]


async def test_participant_gets_every_page_of_an_ordinary_document_with_their_name_but_no_secret_stamp(
    council: Council, document: dict[str, object], db: AsyncSession
) -> None:
    assert document["classification"] == "ordinary"
    pages = await _downloaded_text(council, document["id"])
    assert len(pages) == 3
    for words in pages:
        assert "Tài liệu mật" not in words
        assert "Bản của Delegate1 (delegate1) · tải lúc" in words  # who, when: every copy is traceable
        assert "HĐND huyện" in words  # the meeting title, with Vietnamese letters intact
    rows = list(await db.scalars(select(DocumentDownload)))
    assert [(r.user_id, r.kind) for r in rows] == [(council.api.ids["delegate1"], "watermarked")]


async def test_confidential_document_is_stamped_secret_on_every_page(council: Council) -> None:
    response = await upload(council, make_pdf(pages=2), classification="confidential")
    assert response.status_code == 201, response.text
    assert response.json()["classification"] == "confidential"
    pages = await _downloaded_text(council, response.json()["id"], "guest")
    assert len(pages) == 2
    for words in pages:
        assert "Tài liệu mật — Guest —" in words
        assert "Bản của Guest (guest)" in words


async def test_chair_or_secretary_changes_the_classification_and_the_next_download_follows(
    council: Council, document: dict[str, object]
) -> None:
    url = f"{council.url}/documents/{document['id']}"
    denied = await council.api.call("PATCH", url, "delegate1", json={"classification": "confidential"})
    assert denied.status_code == 403
    changed = await council.api.ok("PATCH", url, "chair", json={"classification": "confidential"})
    assert (changed["classification"], changed["title"]) == ("confidential", document["title"])
    assert all("Tài liệu mật" in words for words in await _downloaded_text(council, document["id"]))
    renamed = await council.api.ok(
        "PATCH", url, "secretary", json={"classification": "ordinary", "title": "Nghị quyết số 12 (sửa)"}
    )
    assert (renamed["classification"], renamed["title"]) == ("ordinary", "Nghị quyết số 12 (sửa)")
    assert (await council.api.ok("GET", url, "guest"))["classification"] == "ordinary"
    assert not any("Tài liệu mật" in words for words in await _downloaded_text(council, document["id"]))


async def test_unknown_classification_is_refused_with_the_error_body(
    council: Council, document: dict[str, object]
) -> None:
    # The upload form is read by the service: a rule broken, 422 and its own code; nothing stored.
    refused = await upload(council, make_pdf(pages=1), classification="top-secret")
    assert refused.status_code == 422
    assert refused.json() == {
        "status": 422,
        "code": "document.invalid_classification",
        "detail": "classification must be one of ordinary, confidential, not 'top-secret'",
    }
    listed = await council.api.ok("GET", f"{council.url}/documents", "secretary")
    assert [d["id"] for d in listed] == [document["id"]]
    # A JSON body is checked by its schema, as on every JSON endpoint: 400 request.invalid.
    url = f"{council.url}/documents/{document['id']}"
    bad = await council.api.call("PATCH", url, "secretary", json={"classification": "mật"})
    assert bad.status_code == 400
    assert (bad.json()["status"], bad.json()["code"]) == (400, "request.invalid")
    assert "classification" in str(bad.json()["errors"])
    assert (await council.api.ok("GET", url, "secretary"))["classification"] == "ordinary"


async def test_file_name_is_sent_per_rfc_6266(council: Council, document: dict[str, object]) -> None:
    response = await council.api.call(
        "GET", f"{council.url}/documents/{document['id']}/download", "secretary", params={"original": "true"}
    )
    header = response.headers["content-disposition"]
    assert header.startswith('attachment; filename="Nghi quyet so 12.pdf"; ')
    assert unquote(header.split("filename*=UTF-8''")[1]) == "Nghị quyết số 12.pdf"


async def test_original_is_byte_identical_and_only_for_managers(
    council: Council, document: dict[str, object], db: AsyncSession
) -> None:
    url = f"{council.url}/documents/{document['id']}/download"
    denied = await council.api.call("GET", url, "delegate1", params={"original": "true"})
    assert denied.status_code == 403
    for who in ("secretary", "chair"):
        response = await council.api.call("GET", url, who, params={"original": "true"})
        assert response.status_code == 200
        assert hashlib.sha256(response.content).hexdigest() == document["currentVersion"]["sha256"]  # type: ignore[index]
    kinds = [r.kind for r in await db.scalars(select(DocumentDownload).order_by(DocumentDownload.id))]
    assert kinds == ["original", "original"]


async def test_older_version_can_be_downloaded(council: Council, document: dict[str, object]) -> None:
    files = [("file", ("v2.pdf", make_pdf("Bản sửa", pages=1), "application/pdf"))]
    await council.api.ok(
        "POST", f"{council.url}/documents/{document['id']}/versions", "secretary", files=files
    )
    old = document["currentVersion"]["id"]  # type: ignore[index]
    response = await council.api.call(
        "GET", f"{council.url}/documents/{document['id']}/download", "delegate2", params={"version": old}
    )
    assert pymupdf.open(stream=response.content, filetype="pdf").page_count == 3


# Every /Rotate on a plain page, on one whose mediabox does not start at 0,0, and on one with a cropbox.
ROTATED = [
    (rotation, box) for box in ("plain", "mediabox offset", "cropbox") for rotation in (0, 90, 180, 270)
]


def rotated_pdf() -> bytes:
    """One page per case of ROTATED, each with a line of body text."""
    document = pymupdf.open()
    for rotation, box in ROTATED:
        page = document.new_page(width=595, height=842)
        page.insert_text((120, 140), f"Trang xoay {rotation} độ, {box}", fontsize=14)
        if box == "mediabox offset":
            page.set_mediabox(pymupdf.Rect(100, 50, 695, 892))
        elif box == "cropbox":
            page.set_cropbox(pymupdf.Rect(60, 40, 500, 700))
        page.set_rotation(rotation)
    data = bytes(document.tobytes(garbage=1, deflate=True))
    document.close()
    return data


def displayed_line(page: pymupdf.Page, words: str) -> tuple[pymupdf.Point, pymupdf.Rect]:
    """The direction and box of the text line holding `words`, as a reader sees the page (rotated)."""
    turn = page.rotation_matrix  # extraction reports unrotated coordinates
    for block in page.get_text("dict")["blocks"]:
        for line in block.get("lines", []):
            if words in "".join(span["text"] for span in line["spans"]):
                direction = pymupdf.Point(line["dir"]) * turn - pymupdf.Point(0, 0) * turn
                return direction, pymupdf.Rect(line["bbox"]) * turn
    raise AssertionError(f"no line with {words!r} on page {page.number + 1}")


async def test_stamp_is_upright_and_on_the_page_whatever_its_rotation_and_boxes(council: Council) -> None:
    response = await upload(
        council, [("Trang xoay.pdf", rotated_pdf(), "application/pdf")], classification="confidential"
    )
    assert response.status_code == 201, response.text
    downloaded = await council.api.call(
        "GET", f"{council.url}/documents/{response.json()['id']}/download", "delegate1"
    )
    assert downloaded.status_code == 200
    pdf = pymupdf.open(stream=downloaded.content, filetype="pdf")
    assert pdf.page_count == len(ROTATED)
    tilt = math.radians(35)
    for page, (rotation, box) in zip(pdf, ROTATED, strict=True):
        case = f"page {page.number + 1} ({rotation}°, {box})"
        assert page.rotation == rotation, case
        shown = page.rect  # the page as displayed: cropbox, then rotation
        visible = pymupdf.Rect(shown.x0 - 1, shown.y0 - 1, shown.x1 + 1, shown.y1 + 1)
        direction, where = displayed_line(page, "Bản của Delegate1")
        assert tuple(direction) == pytest.approx((1, 0), abs=1e-3), (
            case
        )  # left to right, as the reader holds it
        assert visible.contains(where), f"{case}: footer at {where}, page {shown}"
        assert where.y0 > shown.height * 0.93, f"{case}: footer at {where}, not along the bottom of {shown}"
        assert where.x0 < shown.width / 4, case
        direction, where = displayed_line(page, "Tài liệu mật")
        assert tuple(direction) == pytest.approx((math.cos(tilt), -math.sin(tilt)), abs=1e-3), case  # rising
        assert visible.contains(where), f"{case}: stamp at {where}, page {shown}"
        centre = (where.tl + where.br) / 2
        assert abs(centre.x - shown.width / 2) < shown.width / 10, f"{case}: stamp at {where}"
        assert abs(centre.y - shown.height / 2) < shown.height / 10, f"{case}: stamp at {where}"
        # And in pixels, as a viewer draws it: the footer's dark red is in the bottom strip of the image.
        image = page.get_pixmap(dpi=72)
        strip = range(image.height - round(image.height * 0.06), image.height)
        assert any(
            (pixel := image.pixel(x, y))[0] - pixel[1] > 50 for y in strip for x in range(image.width // 2)
        ), f"{case}: no footer ink along the bottom of the rendered page"


async def test_served_copies_drop_active_content_and_the_original_keeps_it_for_managers(
    council: Council,
) -> None:
    response = await upload(council, [("Nghị quyết chủ động.pdf", active_pdf(), "application/pdf")])
    assert response.status_code == 201, response.text
    url = f"{council.url}/documents/{response.json()['id']}/download"
    original = await council.api.call("GET", url, "secretary", params={"original": "true"})
    assert all(active_content(original.content).values())  # the test file really carries it all
    served = await council.api.call("GET", url, "delegate1")
    assert active_content(served.content) == dict.fromkeys(active_content(original.content), 0)
    with pymupdf.open(stream=served.content, filetype="pdf") as pdf:
        # What is harmless stays: the text, and a link to a web page.
        assert "Nghi quyet" in pdf[0].get_text()
        assert [link["kind"] for link in pdf[0].get_links()] == [pymupdf.LINK_URI]
