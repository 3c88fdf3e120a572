"""Page rendering throughput and first-page latency: the project's pipeline against pdftoppm and bare PyMuPDF.

    python bench/render.py [file.pdf]

Without a file, a 100-page Vietnamese sample is generated. The pipeline is the server's own: the worker
pool (one process per core), PyMuPDF rasterising, Pillow encoding JPEG, the atomic cache write and the
bookkeeping of the background renderer. pdftoppm (poppler-utils) renders the same pages to JPEG at the
same width on one core. The last line holds `ratio <pipeline pages/s ÷ pdftoppm pages/s>`.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymupdf  # type: ignore[import-untyped]
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meeting.docs.pdf import JPEG_QUALITY, make_demo_pdf
from meeting.docs.render import DocsRuntime
from meeting.docs.storage import sha256_of
from meeting.settings import Settings

WIDTH = 1280
SAMPLE_PAGES = 100
PARAGRAPHS = [
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015; Luật Ngân sách nhà nước ngày "
    "25 tháng 6 năm 2015; Nghị định số 163/2016/NĐ-CP của Chính phủ quy định chi tiết thi hành một số "
    "điều của Luật Ngân sách nhà nước.",
    "Xét Tờ trình của Ủy ban nhân dân huyện về dự toán thu, chi ngân sách địa phương năm 2027; Báo cáo "
    "thẩm tra của Ban Kinh tế - Xã hội và ý kiến thảo luận của đại biểu Hội đồng nhân dân huyện tại kỳ họp.",
    "Điều 1. Phê duyệt dự toán thu ngân sách nhà nước trên địa bàn huyện năm 2027 là 1.245.600 triệu "
    "đồng; dự toán chi ngân sách địa phương là 1.087.300 triệu đồng, trong đó chi đầu tư phát triển "
    "412.000 triệu đồng, chi thường xuyên 642.800 triệu đồng, dự phòng ngân sách 32.500 triệu đồng.",
    "Điều 2. Giao Ủy ban nhân dân huyện tổ chức thực hiện Nghị quyết; Thường trực Hội đồng nhân dân, các "
    "Ban và đại biểu Hội đồng nhân dân huyện giám sát việc thực hiện Nghị quyết này.",
] * 2


def sample(directory: Path) -> Path:
    """A generated multi-page sample with real Vietnamese text."""
    path = directory / "sample.pdf"
    path.write_bytes(
        make_demo_pdf("Nghị quyết về dự toán ngân sách huyện năm 2027", PARAGRAPHS * 75, SAMPLE_PAGES)
    )
    return path


def variant(source: Path, directory: Path, n: int) -> Path:
    """The same PDF with a trailing comment: new hash, so nothing is cached yet."""
    path = directory / f"variant-{n}.pdf"
    path.write_bytes(source.read_bytes() + f"\n% variant {n}\n".encode())
    return path


def bare_first_page(path: Path) -> float:
    """Seconds for an in-process open, render of page 1 at WIDTH, and Pillow JPEG encode."""
    started = time.perf_counter()
    document = pymupdf.open(path)
    page = document.load_page(0)
    scale = WIDTH / page.rect.width
    pixmap = page.get_pixmap(matrix=pymupdf.Matrix(scale, scale), alpha=False)
    image = Image.frombuffer(
        "RGB", (pixmap.width, pixmap.height), pixmap.samples, "raw", "RGB", pixmap.stride, 1
    )
    image.save(io.BytesIO(), "JPEG", quality=JPEG_QUALITY)
    elapsed = time.perf_counter() - started
    document.close()
    return elapsed


def pdftoppm(path: Path, directory: Path) -> float:
    """Seconds pdftoppm takes to write every page as a JPEG WIDTH pixels wide (one process, one core)."""
    out = directory / "ppm"
    out.mkdir()
    started = time.perf_counter()
    subprocess.run(
        ["pdftoppm", "-jpeg", "-scale-to-x", str(WIDTH), "-scale-to-y", "-1", str(path), str(out / "p")],
        check=True,
    )
    return time.perf_counter() - started


async def pipeline(source: Path, directory: Path, pages: int) -> tuple[float, float, int]:
    """(seconds for all pages, median seconds to page 1 after upload, workers) in the server's pipeline."""
    runtime = DocsRuntime(Settings(data_dir=directory / "data"))
    await runtime.pool.warm_up()
    # Warm the workers' imports and caches on an unrelated blob, as a running server would be.
    first: list[float] = []
    for n in range(6):
        path = variant(source, directory, n)
        sha = sha256_of(path)
        runtime.store.put(path, sha)
        started = time.perf_counter()  # the upload has ended: the blob is stored
        await runtime.page_image(sha, 1, WIDTH)
        if n:  # the first round warms the workers up
            first.append(time.perf_counter() - started)
    path = variant(source, directory, 99)
    sha = sha256_of(path)
    runtime.store.put(path, sha)
    started = time.perf_counter()
    rendered = await runtime.render_version(0, 0, 0, sha, pages, widths=(WIDTH,), publish=False)
    elapsed = time.perf_counter() - started
    assert rendered == pages, f"only {rendered} of {pages} pages rendered"
    runtime.pool.close()
    return elapsed, statistics.median(first), runtime.pool.size


def main() -> None:
    """Run both renderers on the same pages and print the figures."""
    if shutil.which("pdftoppm") is None:
        sys.exit("pdftoppm not found: apt-get install poppler-utils")
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        source = Path(sys.argv[1]) if len(sys.argv) > 1 else sample(directory)
        with pymupdf.open(source) as document:
            pages = document.page_count
        bare_first_page(source)  # warm the in-process library too
        bare = statistics.median(bare_first_page(variant(source, directory, 100 + n)) for n in range(5))
        poppler = pdftoppm(source, directory)
        ours, first, workers = asyncio.run(pipeline(source, directory, pages))
    ours_rate, poppler_rate = pages / ours, pages / poppler
    print(f"file: {source.name if len(sys.argv) > 1 else 'generated sample'}, {pages} pages, {WIDTH} px JPEG")
    print(
        f"pipeline ({workers} workers): {ours:.2f} s, {ours_rate:.1f} pages/s, "
        f"{1000 * ours / pages:.1f} ms/page"
    )
    print(
        f"pdftoppm (1 core):     {poppler:.2f} s, {poppler_rate:.1f} pages/s, "
        f"{1000 * poppler / pages:.1f} ms/page"
    )
    print(
        f"first page after upload: pipeline {1000 * first:.0f} ms, "
        f"bare in-process PyMuPDF {1000 * bare:.0f} ms"
    )
    print(
        f"render {WIDTH}px: pipeline {ours_rate:.1f} pages/s, pdftoppm {poppler_rate:.1f} pages/s, "
        f"first page {first / bare:.2f}x bare, ratio {ours_rate / poppler_rate:.2f}"
    )


if __name__ == "__main__":
    main()
