"""Downloads: a stamped copy for participants, the original for managers, every download audited."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING
from urllib.parse import unquote

import pymupdf
import pytest
from sqlalchemy import select

from meeting.docs.models import DocumentDownload
from tests.docs.conftest import make_pdf, upload

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tests.conftest import Council


@pytest.fixture
async def document(council: Council) -> dict[str, object]:
    """A three-page resolution with a Vietnamese file name."""
    response = await upload(council, [("Nghị quyết số 12.pdf", make_pdf(pages=3), "application/pdf")])
    return dict(response.json())


async def test_participant_gets_every_page_stamped_with_their_name_and_the_meeting(
    council: Council, document: dict[str, object], db: AsyncSession
) -> None:
    response = await council.api.call(
        "GET", f"{council.url}/documents/{document['id']}/download", "delegate1"
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = pymupdf.open(stream=response.content, filetype="pdf")
    assert pdf.page_count == 3
    for page in pdf:
        words = page.get_text()
        assert "Tài liệu mật" in words
        assert "Delegate1" in words  # the display name
        assert "HĐND huyện" in words  # the meeting title, with Vietnamese letters intact
    rows = list(await db.scalars(select(DocumentDownload)))
    assert [(r.user_id, r.kind) for r in rows] == [(council.api.ids["delegate1"], "watermarked")]


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
