"""Fixtures of the documents tests: PDFs and images generated in code, and an upload helper."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import zipfile
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pymupdf
import pytest
import uvicorn
from PIL import Image

from meeting.app import create_app
from meeting.docs.pdf import make_demo_pdf

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from litestar import Litestar

    from meeting.settings import Settings
    from tests.conftest import Council


def pytest_configure(config: pytest.Config) -> None:
    """Register this folder's marker."""
    config.addinivalue_line("markers", "docs_settings(**fields): settings fields changed for this test's app")


@pytest.fixture
def app(settings: Settings, request: pytest.FixtureRequest) -> Litestar:
    """The application, with the fields of a `docs_settings` marker applied to its settings."""
    marker = request.node.get_closest_marker("docs_settings")
    return create_app(dataclasses.replace(settings, **marker.kwargs) if marker else settings)


PARAGRAPHS = [
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Xét Tờ trình số 12/TTr-UBND của Ủy ban nhân dân huyện về dự toán ngân sách năm 2027.",
    "QUYẾT ĐỊNH: Điều 1. Phê duyệt dự toán thu ngân sách nhà nước trên địa bàn huyện.",
    "Điều 2. Giao Ủy ban nhân dân huyện tổ chức thực hiện Nghị quyết này.",
]


def make_pdf(title: str = "Nghị quyết số 12", paragraphs: list[str] | None = None, pages: int = 2) -> bytes:
    """A real multi-page Vietnamese PDF (the demo generator)."""
    return make_demo_pdf(title, PARAGRAPHS if paragraphs is None else paragraphs, pages)


def make_image(kind: str = "JPEG", size: tuple[int, int] = (400, 560), color: str = "white") -> bytes:
    """A scanned page without a text layer."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, kind)
    return buffer.getvalue()


def blank_pdf(pages: int = 1, width: float = 595, height: float = 842) -> bytes:
    """A PDF of empty pages of one size."""
    document = pymupdf.open()
    for _ in range(pages):
        document.new_page(width=width, height=height)
    data = bytes(document.tobytes(garbage=1, deflate=True))
    document.close()
    return data


async def upload(
    council: Council,
    files: list[tuple[str, bytes, str]] | bytes,
    as_: str = "secretary",
    **fields: Any,
) -> Any:
    """POST files to the meeting's documents; returns the raw response."""
    if isinstance(files, bytes):
        files = [("Nghị quyết số 12.pdf", files, "application/pdf")]
    form = {key: str(value) for key, value in fields.items()}
    return await council.api.call(
        "POST",
        f"{council.url}/documents",
        as_,
        files=[("file", (name, data, media)) for name, data, media in files],
        data=form,
    )


@pytest.fixture
def vietnamese_pdf() -> bytes:
    """Two pages of a draft resolution."""
    return make_pdf()


def slow_pdf(operations: int = 6_000_000) -> bytes:
    """A small file whose one page holds millions of text operations: seconds of parsing for MuPDF.

    About 3 s on the 2-core CI machine, well past the 1 s deadline the tests set: 2 million operations
    took 0.9 s there, and a warm worker sometimes beat the deadline.
    """
    document = pymupdf.open()
    page = document.new_page()
    page.insert_text((10, 10), "x")
    xref = page.get_contents()[0]
    document.update_stream(xref, b"BT /helv 1 Tf " + b"0.001 0 Td (ab) Tj " * operations + b" ET")
    data = bytes(document.tobytes(deflate=True))
    document.close()
    return data


def corrupt_xref(data: bytes) -> bytes:
    """The same PDF with its startxref pointing into the middle of nowhere."""
    head, _, tail = data.rpartition(b"startxref")
    offset = tail.split()[0]
    return head + b"startxref" + tail.replace(offset, str(len(head) // 3).encode(), 1)


def encrypted_pdf() -> bytes:
    """A PDF that needs a password to open."""
    document = pymupdf.open(stream=make_pdf(pages=1))
    data = bytes(
        document.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="matkhau", owner_pw="chutoa")
    )
    document.close()
    return data


def zip_file() -> bytes:
    """A ZIP archive (a .docx is one too)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def stored_files(data_dir: Path) -> list[Path]:
    """Blobs and temporary files under the documents folder."""
    root = data_dir / "documents"
    return sorted(p for folder in ("blobs", "tmp") for p in (root / folder).rglob("*") if p.is_file())


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A real server on a socket for these settings, and a client for it.

    The test client sends one request at a time from another thread, which would hide a blocked event
    loop and cannot stream a body of unknown length; a socket shows both as a tablet would see them.
    """
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield http
    finally:
        server.should_exit = True
        await serving
