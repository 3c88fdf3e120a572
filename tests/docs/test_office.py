"""Office files: Word, Excel and PowerPoint uploads become PDF through LibreOffice (sandboxed), readable,
searchable without diacritics and stamped like any PDF; the file itself is kept for the managers."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pymupdf
import pytest
from PIL import Image

from meeting.docs import office
from meeting.docs.worker import LANDLOCK_ABI
from tests.support.api import upload
from tests.support.files import broken_docx, make_docx, make_pptx, make_xlsx, needs_libreoffice, stored_files

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings
    from tests.support.api import Council

# (file name, builder, pages LibreOffice makes of it, a query typed without diacritics it must find)
FILES: dict[str, tuple[str, Callable[[], bytes], int, str]] = {
    "docx": ("Báo cáo năm 2026.docx", make_docx, 1, "ket qua thuc hien nhiem vu"),
    "xlsx": ("Số liệu ngân sách.xlsx", make_xlsx, 2, "chi ngan sach"),
    "pptx": ("Tờ trình dự toán.pptx", make_pptx, 3, "to trinh du toan"),
}


@needs_libreoffice
@pytest.mark.parametrize("kind", list(FILES))
async def test_office_file_becomes_a_readable_searchable_pdf_and_is_kept_as_received(
    council: Council, kind: str
) -> None:
    name, build, pages, query = FILES[kind]
    data = build()
    response = await upload(council, [(name, data, office.MEDIA_TYPES[kind])])
    assert response.status_code == 201, response.text
    document = response.json()
    version = document["currentVersion"]
    assert version["pageCount"] == pages
    assert version["fileName"] == name.rsplit(".", 1)[0] + ".pdf"
    assert version["originalName"] == name
    assert document["title"] == name.rsplit(".", 1)[0]
    for page in range(1, pages + 1):
        image = await council.api.call(
            "GET", f"{version['pagesUrl']}/{page}", "delegate1", params={"width": 200}
        )
        assert image.status_code == 200, image.text
        assert Image.open(io.BytesIO(image.content)).width == 200
    hits = await council.api.ok("GET", f"{council.url}/search", "delegate1", params={"q": query})
    assert [hit["documentId"] for hit in hits][:1] == [document["id"]]
    url = f"{council.url}/documents/{document['id']}/download"
    original = await council.api.call("GET", url, "chair", params={"original": "true"})
    assert original.status_code == 200
    assert original.content == data
    assert original.headers["content-type"].startswith(office.MEDIA_TYPES[kind])
    assert (await council.api.call("GET", url, "delegate1", params={"original": "true"})).status_code == 403
    stamped = await council.api.call("GET", url, "delegate1")
    assert stamped.headers["content-type"] == "application/pdf"
    with pymupdf.open(stream=stamped.content, filetype="pdf") as pdf:
        assert pdf.page_count == pages
        assert "Bản của Delegate1" in pdf[0].get_text()


@needs_libreoffice
async def test_a_docx_table_keeps_its_vietnamese_cells(council: Council, settings: Settings) -> None:
    response = await upload(council, [("bang.docx", make_docx(), office.MEDIA_TYPES["docx"])])
    sha256 = response.json()["currentVersion"]["sha256"]
    with pymupdf.open(settings.data_dir / "documents" / "blobs" / sha256[:2] / f"{sha256}.pdf") as pdf:
        text = pdf[0].get_text()
    assert "Xã Đồng Tâm" in text
    assert "102,1 %" in text


async def _nothing_stored(db: AsyncSession, settings: Settings) -> None:
    from sqlalchemy import func, select

    from meeting.docs.models import Document

    assert await db.scalar(select(func.count()).select_from(Document)) == 0
    assert stored_files(settings.data_dir) == []


@needs_libreoffice
async def test_a_file_libreoffice_cannot_read_is_a_422_naming_it_and_nothing_is_stored(
    council: Council, db: AsyncSession, settings: Settings
) -> None:
    response = await upload(council, [("Biên bản hỏng.docx", broken_docx(), office.MEDIA_TYPES["docx"])])
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "document.conversion_failed"
    assert body["detail"].startswith("Biên bản hỏng.docx could not be converted to PDF")
    await _nothing_stored(db, settings)


@needs_libreoffice
@pytest.mark.docs_settings(office_timeout_seconds=0.2)
async def test_a_conversion_past_its_time_is_stopped_with_a_422_and_nothing_is_stored(
    council: Council, db: AsyncSession, settings: Settings
) -> None:
    response = await upload(council, [("Tờ trình.pptx", make_pptx(), office.MEDIA_TYPES["pptx"])])
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "document.conversion_failed"
    assert "took longer than 0.2 s" in response.json()["detail"]
    await _nothing_stored(db, settings)


@pytest.mark.docs_settings(office_program="/nonexistent/soffice")
async def test_without_libreoffice_office_files_get_415_saying_so(
    council: Council, db: AsyncSession, settings: Settings
) -> None:
    response = await upload(council, [("Báo cáo.docx", make_docx(), office.MEDIA_TYPES["docx"])])
    assert response.status_code == 415
    assert response.json()["code"] == "document.office_unavailable"
    assert "LibreOffice is not installed" in response.json()["detail"]
    await _nothing_stored(db, settings)
    other = await upload(council, [("ghi-chu.txt", b"xin chao", "text/plain")])
    assert "Office files need LibreOffice" in other.json()["detail"]
    health = await council.api.client.get("/health")
    assert health.json()["office"] == "unavailable"


async def test_a_zip_that_is_no_office_file_is_not_taken_for_one(council: Council) -> None:
    response = await upload(council, [("bien-ban.docx", b"PK\x03\x04 not a document", "application/zip")])
    assert response.status_code == 422
    assert "not a valid DOCX file" in response.json()["detail"]


def _sandboxed(directory: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run Python code as LibreOffice runs: through office_sandbox.py, in `directory`."""
    command = [sys.executable, "-I", str(office.SANDBOX), "--dir", str(directory), "--cpu", "20", "--"]
    # Debian's own Python: the sandbox may execute only the system's programs.
    return subprocess.run(
        [*command, "/usr/bin/python3", "-I", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=office._environment(directory),
    )


@pytest.mark.skipif(not LANDLOCK_ABI, reason="this kernel has no Landlock")
@pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="no system Python to run in the sandbox")
def test_the_sandbox_reads_only_system_files_writes_only_its_directory_and_has_no_tcp() -> None:
    # Places anyone may read and write: only the wall keeps the sandbox out of them.
    outside = Path(tempfile.mkdtemp(prefix="meeting-test-outside-"))
    directory = Path(tempfile.mkdtemp(prefix="meeting-test-office-"))
    try:
        outside.chmod(0o777)
        secret = outside / "secret_key"
        secret.write_text("do not read")
        secret.chmod(0o644)
        office._hand_over(directory)
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]
            code = f"""
import os, socket
results = []
for attempt in (
    lambda: open({str(secret)!r}).read(),
    lambda: open({str(outside / "written.txt")!r}, "w").write("x"),
    lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2),
):
    try:
        attempt()
        results.append("allowed")
    except OSError:
        results.append("refused")
open({str(directory / "inside.txt")!r}, "w").write("ok")
results.append(open("/usr/lib/os-release").read()[:4] and "read")
results.append("root" if os.geteuid() == 0 else "unprivileged")
print(" ".join(results))
print(" ".join(sorted(os.environ)))
"""
            done = _sandboxed(directory, code)
        assert done.returncode == 0, done.stderr
        outcome, environment = done.stdout.splitlines()
        assert outcome == "refused refused refused read unprivileged"
        assert (directory / "inside.txt").read_text() == "ok"
        assert not (outside / "written.txt").exists()
        assert set(environment.split()) <= {"PATH", "HOME", "TMPDIR", "LANG", "SAL_USE_VCLPLUGIN", "LC_CTYPE"}
    finally:
        shutil.rmtree(outside, ignore_errors=True)
        shutil.rmtree(directory, ignore_errors=True)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
KINDS: list[tuple[str, bytes, str | None]] = [
    ("a.docx", _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}), "docx"),
    ("a.xlsx", _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<x/>"}), "xlsx"),
    ("a.pptx", _zip({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}), "pptx"),
    # Named by what they hold, not by their extension.
    ("renamed.pdf", _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}), "docx"),
    ("a.odt", _zip({"mimetype": b"application/vnd.oasis.opendocument.text"}), "odt"),
    ("a.ods", _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}), "ods"),
    ("a.odp", _zip({"mimetype": b"application/vnd.oasis.opendocument.presentation"}), "odp"),
    ("a.odg", _zip({"mimetype": b"application/vnd.oasis.opendocument.graphics"}), None),
    ("a.zip", _zip({"word/document.xml": b"<w/>"}), None),  # no content types: not Word's
    ("a.doc", OLE, "doc"),
    ("a.xls", OLE, "xls"),
    ("a.PPT", OLE, "ppt"),
    ("a.bin", OLE, "doc"),  # the legacy container without a telling name: Word's, the commonest
    ("a.docx", b"PK\x03\x04 cut off", None),
    ("a.txt", b"xin chao", None),
]


@pytest.mark.parametrize(("name", "data", "kind"), KINDS)
def test_office_formats_are_told_by_their_content(
    tmp_path: Path, name: str, data: bytes, kind: str | None
) -> None:
    path = tmp_path / "upload"
    path.write_bytes(data)
    assert office.office_kind(path, name) == kind


@pytest.fixture(scope="module")
def converted_by_libreoffice(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The tests' Word file saved by LibreOffice itself as OpenDocument text and as legacy Word."""
    directory = tmp_path_factory.mktemp("formats")
    source = directory / "bao-cao.docx"
    source.write_bytes(make_docx())
    files = {}
    for kind, filter_name in (("odt", "odt"), ("doc", "doc:MS Word 97")):
        subprocess.run(
            [
                *("soffice", f"-env:UserInstallation={(directory / 'profile').as_uri()}", "--headless"),
                *("--convert-to", filter_name, "--outdir", str(directory), str(source)),
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
        files[kind] = (directory / f"bao-cao.{kind}").read_bytes()
    return files


@needs_libreoffice
@pytest.mark.parametrize("kind", ["odt", "doc"])
async def test_opendocument_and_legacy_word_files_become_pdf_too(
    council: Council, converted_by_libreoffice: dict[str, bytes], kind: str
) -> None:
    data = converted_by_libreoffice[kind]
    response = await upload(council, [(f"Báo cáo.{kind}", data, office.MEDIA_TYPES[kind])])
    assert response.status_code == 201, response.text
    assert response.json()["currentVersion"]["originalName"] == f"Báo cáo.{kind}"
    hits = await council.api.ok("GET", f"{council.url}/search", "delegate1", params={"q": "nhiem vu"})
    assert [hit["documentId"] for hit in hits] == [response.json()["id"]]
