"""Real-world PDFs: a damaged file that MuPDF repairs on opening is accepted, stored clean, and kept as
received for managers; encrypted, pageless and unreadable files are still refused."""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING

import pymupdf
import pytest
from PIL import Image

from tests.support.api import upload
from tests.support.files import DAMAGE, blank_pdf, encrypted_pdf, make_pdf, stored_files, with_object_streams

if TYPE_CHECKING:
    from collections.abc import Callable

    from meeting.settings import Settings
    from tests.support.api import Council

# Each damage applied to a three-page Vietnamese PDF, all of which MuPDF repairs. (Broken object
# streams take the page tree with them in a file written by PyMuPDF: refused below.)
REPAIRED: dict[str, Callable[[bytes], bytes]] = {
    **{name: damage for name, damage in DAMAGE.items() if name != "object-streams-broken"},
    "cut-in-half": lambda data: data[: len(data) // 2],
}


def _repairs(data: bytes) -> bool:
    with pymupdf.open(stream=data, filetype="pdf") as document:
        return bool(document.is_repaired)


@pytest.mark.parametrize("damage", list(REPAIRED))
async def test_damaged_pdf_is_accepted_stored_clean_and_kept_as_received(
    council: Council, settings: Settings, damage: str
) -> None:
    received = REPAIRED[damage](make_pdf(pages=3))
    assert _repairs(received), "the damage must really need a repair"
    response = await upload(council, [("Tờ trình hỏng.pdf", received, "application/pdf")])
    assert response.status_code == 201, response.text
    version = response.json()["currentVersion"]
    assert version["pageCount"] == 3
    assert version["originalName"] == "Tờ trình hỏng.pdf"
    # The served PDF is the clean copy: it opens without a repair and says what the pages say.
    stored = settings.data_dir / "documents" / "blobs" / version["sha256"][:2] / f"{version['sha256']}.pdf"
    assert not _repairs(stored.read_bytes())
    assert version["sha256"] != hashlib.sha256(received).hexdigest()
    # A file cut in half has lost its fonts and its last page: page 1 shows (without searchable text),
    # page 3 is kept in its place, unshown.
    cut = damage == "cut-in-half"
    for page in (1,) if cut else (1, 3):
        image = await council.api.call(
            "GET", f"{version['pagesUrl']}/{page}", "delegate1", params={"width": 200}
        )
        assert image.status_code == 200, image.text
        assert Image.open(io.BytesIO(image.content)).width == 200
    found = await council.api.ok(
        "GET", f"{council.url}/search", "delegate1", params={"q": "du toan ngan sach"}
    )
    assert cut or 1 in [hit["page"] for hit in found]
    # Managers get the file exactly as it came; everyone else the stamped clean copy.
    url = f"{council.url}/documents/{response.json()['id']}/download"
    original = await council.api.call("GET", url, "secretary", params={"original": "true"})
    assert original.status_code == 200
    assert original.content == received
    assert original.headers["content-type"] == "application/pdf"
    assert (await council.api.call("GET", url, "delegate1", params={"original": "true"})).status_code == 403
    if not cut:  # (MuPDF cannot rewrite a file whose page tree lost pages: its stamped copy is a 422)
        stamped = await council.api.call("GET", url, "delegate1")
        assert stamped.status_code == 200, stamped.text
        assert not _repairs(stamped.content)


def _with_signature_field() -> bytes:
    with pymupdf.open(stream=make_pdf(pages=1)) as document:
        field = pymupdf.Widget()
        field.field_type = pymupdf.PDF_WIDGET_TYPE_SIGNATURE
        field.field_name = "chu-toa"
        field.rect = pymupdf.Rect(50, 700, 250, 760)
        document[0].add_widget(field)
        return bytes(document.tobytes())


async def test_a_damaged_signed_pdf_is_served_as_received_so_its_signatures_hold(council: Council) -> None:
    received = DAMAGE["trailing-garbage"](_with_signature_field())
    assert _repairs(received)
    response = await upload(council, [("Nghị quyết đã ký.pdf", received, "application/pdf")])
    assert response.status_code == 201, response.text
    version = response.json()["currentVersion"]
    # Re-saving would invalidate every signature: the received bytes are the version's PDF.
    assert version["sha256"] == hashlib.sha256(received).hexdigest()
    assert version["originalName"] is None
    image = await council.api.call("GET", f"{version['pagesUrl']}/1", "delegate1", params={"width": 200})
    assert image.status_code == 200


async def test_an_undamaged_pdf_is_its_own_original(council: Council) -> None:
    response = await upload(council, make_pdf(pages=1))
    assert response.json()["currentVersion"]["originalName"] is None


REFUSED: dict[str, tuple[Callable[[], bytes], str]] = {
    "encrypted": (encrypted_pdf, "password-protected"),
    "no-pages": (lambda: blank_pdf(0), "has no pages"),
    "object-streams-broken": (
        lambda: DAMAGE["object-streams-broken"](with_object_streams(make_pdf(pages=3))),
        "no page",
    ),
    "header-then-noise": (lambda: b"%PDF-1.7\n" + bytes(range(256)) * 40, "damaged"),
    "noise-named-pdf": (lambda: bytes(range(1, 256)) * 40, "not a valid PDF"),
}


@pytest.mark.parametrize("name", list(REFUSED))
async def test_encrypted_pageless_and_unreadable_files_are_still_refused(
    council: Council, settings: Settings, name: str
) -> None:
    build, message = REFUSED[name]
    response = await upload(council, [(f"{name}.pdf", build(), "application/pdf")])
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "document.unreadable"
    assert message in response.json()["detail"]
    assert stored_files(settings.data_dir) == []
