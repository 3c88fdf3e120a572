"""PyMuPDF work, run only inside the limited worker processes (see worker.py), never in the server.

Every function takes open descriptors (`Descriptor`: the worker opens no path) and plain values, and
returns plain values, so calls cross a pipe cheaply. `Refused` carries a sentence for the uploader; any
other exception means the file could not be read. What the functions need from disk (fonts, Pillow's
format plugins) is loaded when this module is imported, before the worker shuts itself off from paths.
"""

from __future__ import annotations

import codecs
import io
import itertools
import mmap
import os
import unicodedata
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import pymupdf  # type: ignore[import-untyped]
from PIL import Image

from meeting.docs.worker import Descriptor, PdfInfo

if TYPE_CHECKING:
    from collections.abc import Iterator

# MuPDF prints repairs and warnings to stderr; they are expected for hostile files.
pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)

# Scanned images are laid out on A4-wide pages (595 pt), keeping their aspect ratio.
IMAGE_PAGE_WIDTH = 595.0
# Pixels a rendered page may have at most: 2048 px wide at the aspect ratio of a long A-series page, ×2.
MAX_RENDER_PIXELS = 2048 * 2896 * 2
COLOUR_CHECK_WIDTH = 160  # px: a red seal or a blue logo still shows at this size
# libjpeg's default, which pdftoppm uses too: text stays crisp at tablet widths.
JPEG_QUALITY = 75


class Refused(Exception):
    """The file breaks a rule; the message is shown to the uploader."""


# Loaded now, while files can still be read (the fonts are Python modules of pymupdf-fonts; Pillow
# imports a format's plugin when it first meets the format). Noto Sans covers Vietnamese; MuPDF's
# base-14 Helvetica does not.
_NOTO = pymupdf.Font("notos")
_NOTO_ARCHIVE = pymupdf.Archive()
_NOTO_FACES = pymupdf.css_for_pymupdf_font("notos", archive=_NOTO_ARCHIVE, name="noto")
Image.init()
# The codecs PyMuPDF decodes PDF strings with that Python does not load at start (each is a module).
for _codec in ("raw_unicode_escape", "utf_16_be", "utf-16le"):
    codecs.lookup(_codec)


class _Mapped:
    """A PDF opened from a mapping of its descriptor: MuPDF reads the pages it needs, not the file."""

    def __init__(self, source: Descriptor) -> None:
        self.size = os.fstat(source.fd).st_size
        self._map = mmap.mmap(source.fd, self.size, prot=mmap.PROT_READ)
        self._view = memoryview(self._map)
        try:
            self.document = pymupdf.open(stream=self._view, filetype="pdf")
        except BaseException:
            self._unmap()
            raise

    def close(self) -> None:
        self.document.close()
        self._unmap()

    def _unmap(self) -> None:
        self._view.release()  # the document keeps a reference to the view; MuPDF is done with it
        self._map.close()


# Blobs are immutable (named by their hash), so an open document can be reused for later pages; the
# mappings count against the worker's address space, so the cache is bounded in bytes too.
_open: OrderedDict[str, _Mapped] = OrderedDict()
_OPEN_LIMIT = 4
_OPEN_BYTES = 256 * 1024 * 1024


def _document(source: Descriptor) -> pymupdf.Document:
    mapped = _open.pop(source.name, None) or _Mapped(source)
    _open[source.name] = mapped
    while len(_open) > 1 and (
        len(_open) > _OPEN_LIMIT or sum(entry.size for entry in _open.values()) > _OPEN_BYTES
    ):
        _open.popitem(last=False)[1].close()
    return mapped.document


class _Output:
    """A descriptor opened for writing, as the file object MuPDF's writer takes. (It has no `name`:
    given a file object with one, PyMuPDF would open that name as a path.)"""

    def __init__(self, target: Descriptor) -> None:
        self._file = os.fdopen(target.fd, "wb", closefd=False)

    def write(self, data: bytes) -> int:
        return self._file.write(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def truncate(self, size: int | None = None) -> int:
        return self._file.truncate(size)

    def flush(self) -> None:
        self._file.flush()


def _save(document: pymupdf.Document, target: Descriptor, **options: Any) -> None:
    output = _Output(target)
    document.save(output, **options)
    output.flush()


# The first page is rasterised this wide at upload: a file whose first page cannot be shown is refused.
FIRST_PAGE_CHECK_WIDTH = 100


def inspect_pdf(source: Descriptor, max_pages: int, max_page_points: float) -> PdfInfo:
    """Open an uploaded PDF, check it against the limits, and extract each page's size and text.

    A damaged file (a wrong or missing cross-reference table, a cut-off end, broken object streams)
    is repaired by MuPDF as it opens, as every viewer does; it is accepted when it has pages and its
    first page renders, and `repaired` tells the caller to store a clean copy (`repair_pdf`).
    """
    if os.fstat(source.fd).st_size == 0:
        raise Refused("the file is empty")
    if b"%PDF-" not in os.pread(source.fd, 1024, 0):
        raise Refused("the file is not a PDF (no %PDF header)")
    try:
        mapped = _Mapped(source)
    except Exception as exc:
        raise Refused("the PDF is damaged and cannot be opened") from exc
    document = mapped.document
    try:
        if document.needs_pass:
            raise Refused("the PDF is password-protected; upload it without a password")
        repaired = bool(document.is_repaired)
        count = document.page_count
        if count == 0:
            raise Refused(
                "the PDF is damaged: no page could be recovered" if repaired else "the PDF has no pages"
            )
        if count > max_pages:
            raise Refused(f"the PDF has {count} pages; at most {max_pages} are accepted")
        pages: list[tuple[float, float, str]] = []
        for index in range(count):
            try:
                page = document.load_page(index)
                rect = page.rect
                text = unicodedata.normalize("NFC", page.get_text("text"))
            except Exception as exc:
                if index == 0:
                    raise Refused("the PDF is damaged: its first page cannot be read") from exc
                # A page lost in a damaged file: kept in its place (its image will say it cannot be
                # shown) rather than refusing the pages that can.
                width, height, _ = pages[-1]
                pages.append((width, height, ""))
                continue
            if max(rect.width, rect.height) > max_page_points:
                raise Refused(
                    f"page {index + 1} is {rect.width:.0f} × {rect.height:.0f} pt; "
                    f"at most {max_page_points:.0f} pt a side is accepted"
                )
            if rect.width < 1 or rect.height < 1:
                raise Refused(f"page {index + 1} has no area")
            if index == 0:
                _check_renders(page)
            pages.append((rect.width, rect.height, text))
        signed = repaired and document.get_sigflags() > 0
    finally:
        mapped.close()
    return PdfInfo(page_count=count, pages=pages, repaired=repaired, signed=signed)


def _check_renders(page: pymupdf.Page) -> None:
    """Rasterise the page small: refuse a file whose first page cannot be shown at all."""
    scale = FIRST_PAGE_CHECK_WIDTH / page.rect.width
    try:
        page.get_pixmap(matrix=pymupdf.Matrix(scale, scale), colorspace=pymupdf.csGRAY, alpha=False)
    except Exception as exc:
        raise Refused("the PDF is damaged: its first page cannot be shown") from exc


def repair_pdf(source: Descriptor, target: Descriptor) -> None:
    """Write the PDF as MuPDF repaired it on opening, garbage-collected: later opens of the clean copy
    need no repair, so renders are fast and every worker sees the same pages."""
    mapped = _Mapped(source)
    try:
        _save(mapped.document, target, garbage=3, deflate=True)
    finally:
        mapped.close()


def images_to_pdf(images: list[Descriptor], target: Descriptor) -> None:
    """Lay out JPEG/PNG scans one per page into a new PDF."""
    output = pymupdf.open()
    for number, source in enumerate(images, start=1):
        with os.fdopen(source.fd, "rb", closefd=False) as handle:
            data = handle.read()
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                image.verify()
        except Exception as exc:
            raise Refused(f"image {number} is damaged or not a JPEG/PNG") from exc
        if width * height > MAX_RENDER_PIXELS * 4:
            raise Refused(f"image {number} is {width} × {height} px; too large")
        page = output.new_page(width=IMAGE_PAGE_WIDTH, height=IMAGE_PAGE_WIDTH * height / width)
        page.insert_image(page.rect, stream=data)
    _save(output, target, garbage=3, deflate=True)
    output.close()


def render_page(source: Descriptor, number: int, width: int, fmt: str, target: Descriptor) -> tuple[int, int]:
    """Rasterise page `number` (1-based) at `width` pixels and write it as JPEG/PNG/WebP."""
    document = _document(source)
    page = document.load_page(number - 1)
    rect = page.rect
    scale = width / rect.width
    # A very tall page at tablet width could need gigabytes; cap the pixels, not the width.
    if rect.width * rect.height * scale * scale > MAX_RENDER_PIXELS:
        scale = (MAX_RENDER_PIXELS / (rect.width * rect.height)) ** 0.5
    # Interpret the page once; rasterise it twice: a glance in colour, then the real size.
    display_list = page.get_displaylist()
    # Most council papers are black on white: MuPDF rasterises those in grey ~4× faster than in RGB and
    # the grey JPEG is smaller and faster to encode. A stamp, a logo or a photo keeps its colours.
    mode = "L" if _is_grey(display_list, rect) else "RGB"
    colorspace = pymupdf.csGRAY if mode == "L" else pymupdf.csRGB
    pixmap = display_list.get_pixmap(matrix=pymupdf.Matrix(scale, scale), colorspace=colorspace, alpha=False)
    # samples_mv: a view of MuPDF's buffer, no copy of the ~7 MB of pixels.
    image = Image.frombuffer(
        mode, (pixmap.width, pixmap.height), pixmap.samples_mv, "raw", mode, pixmap.stride, 1
    )
    with os.fdopen(target.fd, "wb", closefd=False) as out:
        if fmt == "jpeg":
            # Pillow's libjpeg-turbo encodes ~10× faster than MuPDF's own JPEG writer or PNG.
            image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=False)
        elif fmt == "webp":
            image.save(out, "WEBP", quality=JPEG_QUALITY, method=2)
        else:
            image.save(out, "PNG", compress_level=1)
    size = (pixmap.width, pixmap.height)
    del image  # release the view of the pixmap's buffer before the pixmap itself goes
    return size


def _is_grey(display_list: Any, rect: Any) -> bool:
    """Whether the page shows no colour at all, judged on a small RGB rendering of it (cheap: the page
    is already interpreted; anti-aliased colour still tints the pixels it touches)."""
    scale = COLOUR_CHECK_WIDTH / rect.width
    glance = display_list.get_pixmap(
        matrix=pymupdf.Matrix(scale, scale), colorspace=pymupdf.csRGB, alpha=False
    )
    samples: bytes = glance.samples
    return samples[0::3] == samples[1::3] == samples[2::3]


def _fitting(font: pymupdf.Font, text: str, width: float, size: float) -> float:
    """`size`, or less where the text would be wider: a long name or meeting title must stay on the page."""
    length = font.text_length(text, fontsize=size)
    return size if length <= width else max(1.0, size * max(width, 1.0) / length)


def _readable_pages(document: pymupdf.Document) -> Iterator[pymupdf.Page]:
    """The pages that load: a page lost in a repaired file is left as it is, not a reason to fail."""
    for index in range(document.page_count):
        try:
            page = document.load_page(index)
        except Exception:
            continue
        yield page


def drop_active_content(document: pymupdf.Document) -> None:
    """Take out what a served copy must not do when opened: run JavaScript (on open, in forms, in
    page or document actions), launch programs or open other files, carry embedded or attached files.
    Text, pictures, bookmarks, links within the document and to web pages stay."""
    document.scrub(
        attached_files=True,
        embedded_files=True,
        javascript=True,
        # Everything else a reader needs is kept.
        clean_pages=False,
        hidden_text=False,
        metadata=False,
        redactions=False,
        remove_links=False,
        reset_fields=False,
        reset_responses=False,
        thumbnails=False,
        xml_metadata=False,
    )
    catalog = document.pdf_catalog()
    for key in ("OpenAction", "AA"):
        document.xref_set_key(catalog, key, "null")
    for page in _readable_pages(document):
        document.xref_set_key(page.xref, "AA", "null")
        for attachment in list(page.annots(types=[pymupdf.PDF_ANNOT_FILE_ATTACHMENT])):
            page.delete_annot(attachment)
        for link in page.get_links():
            if link["kind"] in (pymupdf.LINK_LAUNCH, pymupdf.LINK_GOTOR):
                page.delete_link(link)


def watermark(source: Descriptor, target: Descriptor, stamp: str, footer: str) -> None:
    """Copy the PDF with `stamp` (if any) across every page and `footer` along its bottom edge, as a
    reader sees it, without its active content."""
    font = _NOTO
    mapped = _Mapped(source)
    try:
        document = mapped.document
        drop_active_content(document)
        # A resource name no page uses yet: insert_font would reuse an existing one (a subset "notos"
        # from our own generator, say), and the glyphs missing from it would print as blanks.
        used = {info[4] for page in _readable_pages(document) for info in page.get_fonts()}
        name = next(f"stamp{n}" for n in itertools.count() if f"stamp{n}" not in used)
        for page in _readable_pages(document):
            # `page.rect` is the page as displayed (cropbox, then /Rotate); text is written in unrotated
            # page space, so every point is derotated and the text turned by the page's rotation.
            # (TextWriter mishandles /Rotate and cropbox offsets: it stamped sideways or off the page.)
            rect = page.rect
            derotate = page.derotation_matrix
            size = max(10.0, min(rect.width, rect.height) / 28)
            page.insert_font(fontname=name, fontbuffer=font.buffer)
            if stamp:
                length = font.text_length(stamp, fontsize=size)
                centre = pymupdf.Point(rect.width / 2, rect.height / 2)
                page.insert_text(
                    pymupdf.Point((rect.width - length) / 2, rect.height / 2) * derotate,
                    stamp,
                    fontname=name,
                    fontsize=size,
                    rotate=page.rotation,
                    morph=(centre * derotate, pymupdf.Matrix(35)),
                    color=(0.75, 0.1, 0.1),
                    fill_opacity=0.28,
                )
            page.insert_text(
                pymupdf.Point(18, rect.height - 10) * derotate,
                footer,
                fontname=name,
                fontsize=_fitting(font, footer, rect.width - 36, max(6.0, size / 2.2)),
                rotate=page.rotation,
                color=(0.5, 0.1, 0.1),
                fill_opacity=0.8,
            )
        _save(document, target, garbage=1, deflate=True)
    finally:
        mapped.close()


# Room kept between the body and a row of columns (the signatures), and the footer's page number line.
COLUMNS_GAP = 18.0
PAGE_NUMBER_SIZE = 8.0


def _columns_height(columns: list[str], css: str, archive: Any, width: float) -> float:
    """How tall the row of columns is when each is `width` wide (laid out once, on scratch stories)."""
    tallest = 0.0
    for column in columns:
        story = pymupdf.Story(html=column, user_css=css, archive=archive)
        _, filled = story.place(pymupdf.Rect(0, 0, width, 10_000))
        tallest = max(tallest, pymupdf.Rect(filled).y1)
    return tallest


def html_to_pdf(body: str, css: str, title: str, columns: list[str] | None = None) -> bytes:
    """Lay HTML out on A4 pages with the embedded Noto Sans family; fonts are subset to what is used.

    `columns` are laid out after the body side by side, in equal widths across the page and kept
    together on one page (a signature block). MuPDF sizes table columns by their content, so a
    two-cell table sits squeezed at the left however wide it is declared; separate stories placed
    in the two halves of the page do not. Every page is numbered "Trang n/N" at the bottom.
    """
    archive = _NOTO_ARCHIVE
    user_css = css + _NOTO_FACES
    story = pymupdf.Story(html=body, user_css=user_css, archive=archive)
    buffer = io.BytesIO()
    writer = pymupdf.DocumentWriter(buffer)
    page = pymupdf.paper_rect("a4")
    where = pymupdf.Rect(page.x0 + 56, page.y0 + 56, page.x1 - 56, page.y1 - 56)  # 2 cm margins
    columns = columns or []
    width = where.width / max(1, len(columns))
    needed = _columns_height(columns, user_css, archive, width) if columns else 0.0
    more = True
    while more:
        device = writer.begin_page(page)
        more, filled = story.place(where)
        story.draw(device)
        if not more and columns:
            top = pymupdf.Rect(filled).y1 + COLUMNS_GAP
            if top + needed > where.y1:  # no room left under the body: the row goes on a page of its own
                writer.end_page()
                device = writer.begin_page(page)
                top = where.y0
            for index, column in enumerate(columns):
                cell = pymupdf.Story(html=column, user_css=user_css, archive=archive)
                x0 = where.x0 + index * width
                cell.place(pymupdf.Rect(x0, top, x0 + width, where.y1))
                cell.draw(device)
        writer.end_page()
    writer.close()
    doc = pymupdf.open("pdf", buffer.getvalue())
    try:
        _number_pages(doc)
        doc.set_metadata({"title": title, "creator": "Phòng họp không giấy", "producer": "PyMuPDF"})
        doc.subset_fonts()
        return bytes(doc.tobytes(garbage=3, deflate=True))
    finally:
        doc.close()


def _number_pages(doc: Any) -> None:
    """ "Trang n/N" centred under the text of every page: the pages of a signed record are counted."""
    font = _NOTO
    count = doc.page_count
    for page in doc:
        # Our own resource name: the story's subset "notos" lacks glyphs it did not need.
        page.insert_font(fontname="pageno", fontbuffer=font.buffer)
        text = f"Trang {page.number + 1}/{count}"
        length = font.text_length(text, fontsize=PAGE_NUMBER_SIZE)
        page.insert_text(
            pymupdf.Point((page.rect.width - length) / 2, page.rect.height - 30),
            text,
            fontname="pageno",
            fontsize=PAGE_NUMBER_SIZE,
            color=(0.35, 0.35, 0.35),
        )


def make_demo_pdf(title: str, paragraphs: list[str], pages: int) -> bytes:
    """A multi-page A4 PDF with real (Vietnamese) text: a title, then the paragraphs spread over `pages`."""
    font = _NOTO
    output = pymupdf.open()
    pages = max(1, pages)
    per_page = max(1, -(-len(paragraphs) // pages)) if paragraphs else 1
    for number in range(pages):
        page = output.new_page(width=595, height=842)
        page.insert_font(fontname="notos", fontbuffer=font.buffer)
        header = title if number == 0 else f"{title} (tiếp theo)"
        page.insert_textbox(pymupdf.Rect(56, 56, 539, 120), header, fontname="notos", fontsize=16)
        chunk = paragraphs[number * per_page : (number + 1) * per_page]
        body = "\n\n".join(chunk)
        page.insert_textbox(
            pymupdf.Rect(56, 130, 539, 780), body, fontname="notos", fontsize=11.5, lineheight=1.35
        )
        page.insert_textbox(
            pymupdf.Rect(56, 800, 539, 820),
            f"Trang {number + 1}/{pages}",
            fontname="notos",
            fontsize=9,
            align=1,
        )
    output.subset_fonts()
    data = output.tobytes(garbage=3, deflate=True)
    output.close()
    return bytes(data)
