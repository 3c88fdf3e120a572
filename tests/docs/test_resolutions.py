"""Resolutions: marked by the chair or secretary, signed by the chair alone; the signed PDF is the next
version (inspected, rendered, searchable, chained), the draft stays readable; every refusal stores nothing."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from meeting.audit import AuditEntry
from meeting.broker import RoomEvent
from meeting.docs.demo_ca import DEMO_SIGNING_PASSWORD
from meeting.docs.models import DocumentVersion
from meeting.docs.signing import configured_trust_roots, verify_pdf_async
from meeting.docs.storage import BlobStore
from meeting.voting.verify import check_record
from tests.support.api import upload
from tests.support.files import make_pdf, needs_pdfsig, pdfsig, stored_files
from tests.support.signing import with_demo_signing

if TYPE_CHECKING:
    from pathlib import Path

    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings
    from tests.support.api import Council

DEMO = {"source": "demo", "password": DEMO_SIGNING_PASSWORD}


@pytest.fixture
def settings(settings: Settings, demo_ca: Path) -> Settings:
    """Demo signing on, with demo certificates for the council's secretary and chair."""
    return with_demo_signing(settings, demo_ca)


async def _draft(council: Council, mark: bool = True) -> dict[str, Any]:
    """A draft resolution uploaded by the secretary (marked as a resolution unless `mark` is False)."""
    response = await upload(council, make_pdf("Nghị quyết về dự toán ngân sách năm 2027"))
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    if mark:
        document = await council.api.ok(
            "PATCH", f"{council.url}/documents/{document['id']}", "secretary", json={"resolution": True}
        )
    return document


async def _download(council: Council, document_id: int, version_id: int) -> bytes:
    response = await council.api.call(
        "GET",
        f"{council.url}/documents/{document_id}/download",
        "secretary",
        params={"version": version_id, "original": "true"},
    )
    assert response.status_code == 200, response.text
    return bytes(response.content)


async def _stored(db: AsyncSession, settings: Settings) -> tuple[list[tuple[int, int, str]], list[Path]]:
    """Every version row and every file under the documents folder (blobs and temporary files)."""
    rows = await db.execute(
        select(DocumentVersion.document_id, DocumentVersion.number, DocumentVersion.sha256).order_by(
            DocumentVersion.id
        )
    )
    versions = [(document_id, number, sha256) for document_id, number, sha256 in rows.all()]
    await db.rollback()  # end the read: the next look sees what was committed since
    return versions, stored_files(settings.data_dir)


def _refused(response: Any, status: int, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text


@needs_pdfsig
async def test_the_chair_signs_a_resolution_as_its_next_version(
    council: Council,
    app: Litestar,
    db: AsyncSession,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api, url = council.api, council.url
    draft = await _draft(council)
    assert draft["resolution"] is True and draft["currentVersion"]["signed"] is False
    first = draft["currentVersion"]
    unsigned = await _download(council, draft["id"], first["id"])

    signed = await api.ok("POST", f"{url}/documents/{draft['id']}/sign", "chair", json=DEMO)
    current = signed["currentVersion"]
    assert (current["number"], current["signed"], signed["resolution"]) == (2, True, True)
    assert signed["versionIds"] == [first["id"], current["id"]]
    assert current["fileName"] == "Nghị quyết số 12 (đã ký).pdf"
    assert current["pageCount"] == first["pageCount"] and current["textlessPages"] == []

    # The signed PDF verifies, in pyHanko and in poppler, which share no code.
    pdf = await _download(council, draft["id"], current["id"])
    assert pdf.startswith(unsigned)  # an incremental update: the draft's bytes are untouched
    report = await verify_pdf_async(pdf, configured_trust_roots(settings, demo=True))
    assert report.valid
    assert [(s.field_name, s.signer) for s in report.signatures] == [("chu-toa", "Chair")]
    poppler = pdfsig(pdf, tmp_path)
    assert [s["Signature Validation"] for s in poppler] == ["Signature is Valid."]
    assert poppler[0]["Signer Certificate Common Name"] == "Chair"
    served = await api.ok("GET", f"{url}/documents/{draft['id']}/signatures", "delegate1")
    assert served["valid"] is True
    assert [(s["fieldName"], s["signer"], s["trusted"]) for s in served["signatures"]] == [
        ("chu-toa", "Chair", True)
    ]

    # The draft stays readable beside it; the signed version is rendered and searchable.
    assert await _download(council, draft["id"], first["id"]) == unsigned
    for version in (first, current):
        page = await api.call("GET", f"{version['pagesUrl']}/1", "delegate1", params={"width": 200})
        assert page.status_code == 200, page.text
    hits = await api.ok("GET", f"{url}/search", "delegate1", params={"q": "dự toán ngân sách"})
    assert {hit["versionId"] for hit in hits} == {current["id"]}

    # Chained as a document version made by the chair's signature, and announced to the room.
    await app.state.docs.wait_idle()
    entries = await db.scalars(
        select(AuditEntry.payload)
        .where(AuditEntry.meeting_id == council.meeting_id, AuditEntry.action == "document.version")
        .order_by(AuditEntry.seq)
    )
    payloads = [json.loads(payload) for payload in entries]
    assert [p.get("signature") for p in payloads] == [None, "chu-toa"]
    assert payloads[-1]["sha256"] == current["sha256"]
    events = list(
        await db.scalars(
            select(RoomEvent.type).where(RoomEvent.meeting_id == council.meeting_id).order_by(RoomEvent.seq)
        )
    )
    assert events.count("document.changed") == 2  # marked, then signed
    assert await check_record(db, BlobStore(settings.data_dir)) == (1, None)
    assert DEMO_SIGNING_PASSWORD not in caplog.text

    # pyHanko refuses to sign the chair's field twice; nothing is stored.
    before = await _stored(db, settings)
    again = await api.call("POST", f"{url}/documents/{draft['id']}/sign", "chair", json=DEMO)
    _refused(again, 409, "signing.field_taken")
    assert await _stored(db, settings) == before


async def test_a_new_upload_after_the_signature_is_an_unsigned_draft_the_chair_signs_again(
    council: Council, db: AsyncSession, settings: Settings
) -> None:
    api, url = council.api, council.url
    draft = await _draft(council)
    await api.ok("POST", f"{url}/documents/{draft['id']}/sign", "chair", json=DEMO)
    corrected = await api.call(
        "POST",
        f"{url}/documents/{draft['id']}/versions",
        "secretary",
        files=[("file", ("Nghị quyết (sửa).pdf", make_pdf("Nghị quyết số 12 (sửa)"), "application/pdf"))],
    )
    assert corrected.status_code == 201, corrected.text
    assert (corrected.json()["currentVersion"]["number"], corrected.json()["currentVersion"]["signed"]) == (
        3,
        False,
    )
    resigned = await api.ok("POST", f"{url}/documents/{draft['id']}/sign", "chair", json=DEMO)
    assert (resigned["currentVersion"]["number"], resigned["currentVersion"]["signed"]) == (4, True)
    assert await check_record(db, BlobStore(settings.data_dir)) == (1, None)


async def test_only_the_chair_signs_and_only_a_resolution_and_refusals_store_nothing(
    council: Council, db: AsyncSession, settings: Settings
) -> None:
    api, url = council.api, council.url
    resolution = await _draft(council)
    plain = await _draft(council, mark=False)
    assert plain["resolution"] is False
    cases = [
        # A signature is personal: the secretary, a delegate, an administrator do not sign for the chair.
        ("secretary", resolution, DEMO, 403, "resolution.chair_only"),
        ("delegate1", resolution, DEMO, 403, "resolution.chair_only"),
        ("admin", resolution, DEMO, 403, "resolution.chair_only"),
        ("outsider", resolution, DEMO, 404, "meeting.not_found"),
        ("chair", plain, DEMO, 409, "resolution.not_marked"),
        ("chair", resolution, {"source": "demo", "password": "sai"}, 422, "signing.bad_password"),
        ("chair", resolution, {"source": "pkcs12", "password": "demo"}, 422, "signing.no_certificate"),
    ]
    before = await _stored(db, settings)
    for who, document, body, status, code in cases:
        response = await api.call("POST", f"{url}/documents/{document['id']}/sign", who, json=body)
        _refused(response, status, code)
        assert await _stored(db, settings) == before, (who, code)
    # Unmarked again, it is no longer signed.
    await api.ok("PATCH", f"{url}/documents/{resolution['id']}", "chair", json={"resolution": False})
    unmarked = await api.call("POST", f"{url}/documents/{resolution['id']}/sign", "chair", json=DEMO)
    _refused(unmarked, 409, "resolution.not_marked")
    assert await _stored(db, settings) == before


async def test_the_frozen_record_refuses_signatures_and_marks(
    council: Council, db: AsyncSession, settings: Settings
) -> None:
    api, url = council.api, council.url
    resolution = await _draft(council)
    for status in ("scheduled", "live", "ended"):
        await api.ok("POST", f"{url}/status", "secretary", json={"status": status})
    sign = f"{url}/documents/{resolution['id']}/sign"
    await api.ok("POST", f"{url}/minutes/submit", "secretary")
    before = await _stored(db, settings)
    _refused(await api.call("POST", sign, "chair", json=DEMO), 409, "meeting.minutes_submitted")
    assert await _stored(db, settings) == before
    await api.ok("POST", f"{url}/minutes/approve", "chair")  # stores the minutes' PDF
    before = await _stored(db, settings)
    _refused(await api.call("POST", sign, "chair", json=DEMO), 409, "meeting.record_frozen")
    patch = await api.call(
        "PATCH", f"{url}/documents/{resolution['id']}", "secretary", json={"resolution": False}
    )
    _refused(patch, 409, "meeting.record_frozen")
    assert await _stored(db, settings) == before
    # The signatures of the frozen record are still there to read (none, here).
    report = await api.ok("GET", f"{url}/documents/{resolution['id']}/signatures", "delegate1")
    assert report == {"signatures": [], "valid": False}
