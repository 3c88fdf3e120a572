"""Files generated in code for the tests (no binary fixtures): PDFs, scans, archives, hostile PDFs."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from typing import TYPE_CHECKING

import pymupdf
import pytest
from PIL import Image

from meeting.docs.pdf import make_demo_pdf

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

PARAGRAPHS = [
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Xét Tờ trình số 12/TTr-UBND của Ủy ban nhân dân huyện về dự toán ngân sách năm 2027.",
    "QUYẾT ĐỊNH: Điều 1. Phê duyệt dự toán thu ngân sách nhà nước trên địa bàn huyện.",
    "Điều 2. Giao Ủy ban nhân dân huyện tổ chức thực hiện Nghị quyết này.",
]


def make_pdf(title: str = "Nghị quyết số 12", paragraphs: list[str] | None = None, pages: int = 2) -> bytes:
    """A real multi-page Vietnamese PDF (the demo generator)."""
    return make_demo_pdf(title, PARAGRAPHS if paragraphs is None else paragraphs, pages)


def numbered_pdf(pages: int, title: str) -> bytes:
    """A PDF whose pages say their number in large type (so a screenshot shows which page is on screen)."""
    document = pymupdf.open()
    for number in range(1, pages + 1):
        page = document.new_page(width=595, height=842)
        page.insert_text((60, 90), f"{title} - trang {number}", fontsize=20)
        page.insert_text(
            (60, 130), "Tong gia tri san xuat tang 8,2%; thu ngan sach dat 112% du toan.", fontsize=12
        )
        page.draw_rect(pymupdf.Rect(60, 180, 535, 760), color=(0.15, 0.3, 0.6), width=2)
        page.insert_text((230, 520), str(number), fontsize=160)
    data = bytes(document.tobytes())
    document.close()
    return data


def make_image(kind: str = "JPEG", size: tuple[int, int] = (400, 560), color: str = "white") -> bytes:
    """A scanned page without a text layer."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, kind)
    return buffer.getvalue()


def blank_pdf(pages: int = 1, width: float = 595, height: float = 842) -> bytes:
    """A PDF of empty pages of one size.

    Written out object by object: 10,000 pages take 10 ms so, against 5 s through PyMuPDF's `new_page`.
    MuPDF reads the file as it is (no repair, no warning).
    """
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Resources << >> >>" % (width, height)
    kids = b" ".join(b"%d 0 R" % number for number in range(3, pages + 3))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        *[page] * pages,
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


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


def _shift_xref_offsets(data: bytes) -> bytes:
    # Every in-use entry of the classic table points 7 bytes off (an editor that re-encoded the header).
    return re.sub(rb"(\d{10}) (\d{5}) n", lambda m: b"%010d %s n" % (int(m[1]) + 7, m[2]), data)


def _without_xref(data: bytes) -> bytes:
    # The table itself gone (cut by a tool that rewrote the end), the trailer and startxref kept.
    start = data.rfind(b"\nxref")
    end = data.find(b"trailer", start)
    if start < 0 or end < 0:  # a cross-reference stream instead: drop the stream object's keyword
        return data.replace(b"/Type/XRef", b"/Type/Gone").replace(b"/Type /XRef", b"/Type /Gone")
    return data[: start + 1] + data[end:]


def _truncated_trailer(data: bytes) -> bytes:
    # A download cut off inside the trailer: no startxref, no %%EOF.
    at = data.rfind(b"trailer")
    if at < 0:
        at = data.rfind(b"startxref")
    return data[: at + 20]


def _broken_object_stream(data: bytes) -> bytes:
    # Bytes overwritten in the middle of each compressed object stream (a bad sector, a bad copy).
    out = bytearray(data)
    for match in re.finditer(rb"/Type\s*/ObjStm", data):
        start = data.find(b"stream", match.end())
        end = data.find(b"endstream", start)
        if start < 0 or end < 0:
            continue
        middle = (start + 8 + end) // 2
        out[middle : middle + 16] = b"\x00\xff" * 8
    return bytes(out)


def _trailing_garbage(data: bytes) -> bytes:
    # What a mail gateway or a web form appends after %%EOF.
    return data + b"\r\n--boundary--\r\n" + bytes(range(256)) * 8


# The ways a PDF arrives damaged (bench/pdf_corpus.py applies each to files of several producers).
DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "xref-offsets-wrong": _shift_xref_offsets,
    "startxref-wrong": lambda data: corrupt_xref(data),
    "xref-missing": _without_xref,
    "trailer-truncated": _truncated_trailer,
    "object-streams-broken": _broken_object_stream,
    "trailing-garbage": _trailing_garbage,
}


def with_object_streams(data: bytes) -> bytes:
    """The same PDF saved with its objects in compressed object streams and an xref stream (as recent
    Acrobat, Word and qpdf write them): what `object-streams-broken` damages."""
    with pymupdf.open(stream=data, filetype="pdf") as document:
        return bytes(document.tobytes(garbage=1, use_objstms=1, compression_effort=0))


# Rows of a small table in every Office file: Vietnamese names, numbers written the Vietnamese way.
TABLE = [
    ("Đơn vị", "Dự toán", "Thực hiện"),
    ("Xã Tân Phú", "1.250", "98,5 %"),
    ("Xã Đồng Tâm", "2.430", "102,1 %"),
]


def make_docx() -> bytes:
    """A Word report: a heading, Vietnamese paragraphs and a table (python-docx)."""
    import docx

    document = docx.Document()
    document.add_heading("Báo cáo kết quả thực hiện nhiệm vụ năm 2026", level=1)
    for paragraph in PARAGRAPHS:
        document.add_paragraph(paragraph)
    table = document.add_table(rows=0, cols=3)
    for row in TABLE:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_xlsx(sheets: tuple[str, ...] = ("Thu ngân sách", "Chi ngân sách")) -> bytes:
    """An Excel workbook of several sheets, each a table (openpyxl)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    for index, title in enumerate(sheets):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        assert sheet is not None
        sheet.title = title
        sheet.append([f"Bảng {title}"])
        for row in TABLE:
            sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_pptx(slides: int = 3) -> bytes:
    """A PowerPoint presentation of `slides` slides with Vietnamese titles and text (python-pptx)."""
    import pptx

    presentation = pptx.Presentation()
    for number in range(1, slides + 1):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = f"Tờ trình dự toán ngân sách — phần {number}"
        slide.placeholders[1].text = PARAGRAPHS[(number - 1) % len(PARAGRAPHS)]
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def broken_docx() -> bytes:
    """A ZIP that says it is a Word document (content types, a word/ part) but holds no document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types>not really</Types>")
        archive.writestr("word/document.xml", b"\x00\x01 garbage \xff" * 50)
    return buffer.getvalue()


needs_libreoffice = pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="LibreOffice is not installed (Debian libreoffice-writer-nogui, -calc-nogui, -impress-nogui)",
)


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


def pdfsig(pdf: bytes, tmp_path: Path) -> list[dict[str, str]]:
    """poppler's report: one dict of "- key: value" lines per signature."""
    path = tmp_path / "checked.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60, check=False)
    signatures: list[dict[str, str]] = []
    for line in result.stdout.splitlines():
        if line.startswith("Signature #"):
            signatures.append({})
        elif line.strip() in ("- Total document signed", "- Not total document signed") and signatures:
            signatures[-1]["coverage"] = line.strip()[2:]
        elif line.strip().startswith("- ") and signatures:
            key, _, value = line.strip()[2:].partition(":")
            signatures[-1][key.strip()] = value.strip()
    return signatures


needs_pdfsig = pytest.mark.skipif(
    shutil.which("pdfsig") is None, reason="pdfsig is not installed (Debian package poppler-utils)"
)


def active_pdf() -> bytes:
    """A PDF that acts when opened: JavaScript on open, a launch link, an embedded and an attached file."""
    with pymupdf.open() as document:
        page = document.new_page()
        page.insert_text((72, 72), "Nghi quyet co noi dung chu dong", fontname="helv")
        page.insert_link(
            {"kind": pymupdf.LINK_LAUNCH, "from": pymupdf.Rect(72, 100, 300, 120), "file": "calc.exe"}
        )
        page.insert_link(
            {"kind": pymupdf.LINK_URI, "from": pymupdf.Rect(72, 130, 300, 150), "uri": "https://example.org/"}
        )
        page.add_file_annot(pymupdf.Point(72, 200), b"payload", "attached.exe")
        document.embfile_add("embedded.exe", b"MZ payload")
        script = document.get_new_xref()
        document.update_object(script, "<< /Type /Action /S /JavaScript /JS (app.alert('opened')) >>")
        document.xref_set_key(document.pdf_catalog(), "OpenAction", f"{script} 0 R")
        return document.tobytes()


def active_content(pdf: bytes) -> dict[str, int]:
    """How much of what `active_pdf` puts in is still in a PDF (all zeros: a safe copy)."""
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        catalog = document.pdf_catalog()
        links = [link for page in document for link in page.get_links()]
        return {
            "open action": int(document.xref_get_key(catalog, "OpenAction")[0] != "null"),
            "javascript": sum(
                "JavaScript" in document.xref_object(x) for x in range(1, document.xref_length())
            ),
            "launch actions": sum(
                "/Launch" in document.xref_object(x) for x in range(1, document.xref_length())
            ),
            "links to files": sum(
                link["kind"] in (pymupdf.LINK_LAUNCH, pymupdf.LINK_GOTOR) for link in links
            ),
            "embedded files": document.embfile_count(),
            "attached files": sum(
                a.type[0] == pymupdf.PDF_ANNOT_FILE_ATTACHMENT for page in document for a in page.annots()
            ),
        }


def slow_after_the_first_page(slow_pages: int = 3, operations: int = 1_500_000) -> bytes:
    """A PDF whose first page renders at once and whose others take the best part of a second each:
    a background render is then certainly still running shortly after its first page is announced."""
    with pymupdf.open(stream=make_pdf(pages=1)) as document:
        for _ in range(slow_pages):
            with pymupdf.open(stream=slow_pdf(operations)) as slow:
                document.insert_pdf(slow)
        return bytes(document.tobytes(deflate=True))
