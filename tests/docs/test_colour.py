"""Black-and-white pages are served as grey JPEGs (faster, smaller); a page with colour keeps it."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pymupdf  # type: ignore[import-untyped]
from PIL import Image

from tests.support.api import upload
from tests.support.files import make_pdf

if TYPE_CHECKING:
    from tests.support.api import Council


def _text_and_seal_pdf() -> bytes:
    """Page 1: black text only; page 2: the same with a small red seal, as on a signed decision."""
    document = pymupdf.open(stream=make_pdf(pages=2), filetype="pdf")
    document[1].draw_circle((480, 740), 24, color=(0.85, 0.1, 0.1), width=2)
    data = document.tobytes()
    document.close()
    return bytes(data)


async def test_black_text_page_is_grey_and_seal_page_keeps_its_red(council: Council) -> None:
    response = await upload(council, _text_and_seal_pdf())
    assert response.status_code == 201, response.text
    pages_url = response.json()["currentVersion"]["pagesUrl"]
    images = []
    for number in (1, 2):
        page = await council.api.call("GET", f"{pages_url}/{number}", "delegate1")
        assert page.status_code == 200
        images.append(Image.open(io.BytesIO(page.content)))
    text, sealed = images
    assert (text.mode, text.width) == ("L", 1280)
    assert (sealed.mode, sealed.width) == ("RGB", 1280)
    reds = [(r, g, b) for r, g, b in sealed.get_flattened_data() if r > 150 and g < 100 and b < 100]
    assert len(reds) > 50  # the seal's ring, in red
    # The grey page lost nothing: it has the dark text of the coloured one.
    assert min(text.get_flattened_data()) < 60
