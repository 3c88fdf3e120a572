"""Over-refusal of real-world PDFs: files of several producers, each also damaged the ways files arrive
damaged, uploaded through the server's own API.

    python bench/pdf_corpus.py [--keep DIR]

Producers (each used when it is installed): PyMuPDF (the demo generator, drawn pages, a scan, a rotated
page), LibreOffice (a DOCX, an XLSX and a PPTX made with python-docx, openpyxl and python-pptx, with
Vietnamese text and tables), pdftocairo (poppler) re-drawing the PyMuPDF files, Ghostscript's pdfwrite
(`gs`) re-writing those and the LibreOffice ones, and Chromium's print to PDF (Playwright with Debian's
/usr/bin/chromium). Every base file is also re-saved with object streams and an xref stream, and each of
the damages in `tests/support/files.py` `DAMAGE` is applied to both.

A file counts as renderable when PyMuPDF, in this process, opens it, finds pages and renders its first
page. Each file is then uploaded to an in-process server (SQLite, the real worker pool) as the
secretary; `/health` is asked after every tenth upload. The last line is
`refused <n> of <renderable> renderable (<pct> %), server errors <n>, ratio <refused / renderable>`:
the target is ≤ 1 % and 0 server errors.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pymupdf  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meeting.app import create_app
from meeting.db import create_engine, create_session_factory
from meeting.migrations import upgrade
from meeting.settings import Settings
from tests.support.api import Api, build_council, upload
from tests.support.files import (
    DAMAGE,
    TABLE,
    make_docx,
    make_image,
    make_pdf,
    make_pptx,
    make_xlsx,
    numbered_pdf,
    with_object_streams,
)
from tests.support.servers import serve_in_process

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)

TEXT = [
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Xét Tờ trình số 12/TTr-UBND của Ủy ban nhân dân huyện về dự toán ngân sách năm 2027.",
    "Điều 1. Phê duyệt dự toán thu ngân sách nhà nước trên địa bàn huyện là 1.245.600 triệu đồng.",
    "Điều 2. Giao Ủy ban nhân dân huyện tổ chức thực hiện Nghị quyết này.",
]
ROWS = TABLE[1:]


def pymupdf_files(out: Path) -> list[Path]:
    """Files PyMuPDF writes: the demo generator, drawn pages, a scan, a rotated page."""
    made = {
        "pymupdf-demo": make_pdf("Nghị quyết về dự toán ngân sách", TEXT * 6, pages=4),
        "pymupdf-numbered": numbered_pdf(3, "Bao cao"),
    }
    with pymupdf.open() as document:
        page = document.new_page()
        page.insert_image(page.rect, stream=make_image("JPEG", (800, 1130), "lightyellow"))
        made["pymupdf-scan"] = document.tobytes(garbage=3, deflate=True)
    with pymupdf.open(stream=make_pdf(pages=2)) as document:
        document[0].set_rotation(90)
        made["pymupdf-rotated"] = document.tobytes()
    paths = []
    for name, data in made.items():
        path = out / f"{name}.pdf"
        path.write_bytes(data)
        paths.append(path)
    return paths


def office_sources(out: Path) -> list[Path]:
    """A DOCX, an XLSX and a PPTX with Vietnamese text and tables (the tests' own builders)."""
    paths = []
    builders = {"bao-cao.docx": make_docx, "so-lieu.xlsx": make_xlsx, "to-trinh.pptx": make_pptx}
    for name, build in builders.items():
        path = out / name
        path.write_bytes(build())
        paths.append(path)
    return paths


def libreoffice_files(out: Path) -> list[Path]:
    """The Office files converted by LibreOffice headless (a fresh profile)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        return []
    sources = office_sources(out)
    profile = Path(tempfile.mkdtemp(prefix="corpus-lo-"))
    try:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out),
                *map(str, sources),
            ],
            capture_output=True,
            timeout=300,
            check=True,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    paths = []
    for source in sources:
        converted = out / f"{source.stem}.pdf"
        if converted.exists():
            path = out / f"libreoffice-{source.suffix[1:]}.pdf"
            converted.rename(path)
            paths.append(path)
    return paths


def rewritten(sources: list[Path], out: Path, tool: str, command: list[str]) -> list[Path]:
    """Each source re-written by a command line tool (`{in}` and `{out}` in `command`)."""
    if shutil.which(command[0]) is None:
        return []
    paths = []
    for source in sources:
        path = out / f"{tool}-{source.stem}.pdf"
        line = [part.replace("{in}", str(source)).replace("{out}", str(path)) for part in command]
        if (
            subprocess.run(line, capture_output=True, timeout=120, check=False).returncode == 0
            and path.exists()
        ):
            paths.append(path)
    return paths


def chromium_files(out: Path) -> list[Path]:
    """Chromium's print to PDF of two HTML pages (a resolution, a table)."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        return []
    from playwright.sync_api import sync_playwright

    rows = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in ROWS)
    pages = {
        "chromium-nghi-quyet": "<h1>Nghị quyết số 12</h1>" + "".join(f"<p>{p}</p>" for p in TEXT * 20),
        "chromium-bang": f"<h1>Bảng số liệu</h1><table border=1>{rows * 30}</table>",
    }
    paths = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            for name, body in pages.items():
                page.set_content(f"<html lang=vi><meta charset=utf-8><body>{body}</body></html>")
                path = out / f"{name}.pdf"
                page.pdf(path=str(path), format="A4")
                paths.append(path)
        finally:
            browser.close()
    return paths


def corpus(out: Path) -> list[tuple[str, str, bytes]]:
    """(producer, variant, content) of every file: the bases, with object streams, and damaged."""
    mupdf = pymupdf_files(out)
    office = libreoffice_files(out)
    bases = [
        *mupdf,
        *office,
        *rewritten(mupdf, out, "pdftocairo", ["pdftocairo", "-pdf", "{in}", "{out}"]),
        *rewritten(
            mupdf + office,
            out,
            "ghostscript",
            [
                "gs",
                "-q",
                "-dNOPAUSE",
                "-dBATCH",
                "-dSAFER",
                "-sDEVICE=pdfwrite",
                "-sOutputFile={out}",
                "{in}",
            ],
        ),
        *chromium_files(out),
    ]
    files = []
    for base in bases:
        producer = base.stem.split("-")[0]
        data = base.read_bytes()
        for form, content in (("plain", data), ("objstm", with_object_streams(data))):
            files.append((producer, f"{base.stem} {form}", content))
            for damage, apply in DAMAGE.items():
                files.append((producer, f"{base.stem} {form} {damage}", apply(content)))
    return files


def renderable(data: bytes) -> tuple[bool, bool]:
    """Whether PyMuPDF opens the file, finds pages and renders the first one; and whether it had to
    repair the file to open it (such files were all refused before repaired files were accepted)."""
    try:
        with pymupdf.open(stream=data, filetype="pdf") as document:
            if document.needs_pass or document.page_count == 0:
                return False, bool(document.is_repaired)
            document[0].get_pixmap(matrix=pymupdf.Matrix(0.2, 0.2))
            return True, bool(document.is_repaired)
    except Exception:
        return False, False


async def upload_all(files: list[tuple[str, str, bytes]], data_dir: Path) -> list[tuple[int, str]]:
    """Upload every file as the secretary; (status, detail) of each, and /health checked on the way."""
    settings = Settings(data_dir=data_dir, secret_key=secrets.token_urlsafe(48))
    await asyncio.to_thread(upgrade, settings)  # Alembic runs its own event loop
    app = create_app(settings)
    engine = create_engine(settings)
    results: list[tuple[int, str]] = []
    try:
        async with serve_in_process(app) as client, create_session_factory(engine)() as session:
            api = Api(client=client, db=session, settings=settings)
            council = await build_council(api)
            for index, (_, name, data) in enumerate(files):
                response = await upload(council, [(f"{name}.pdf", data, "application/pdf")])
                detail = "" if response.status_code == 201 else response.json().get("detail", "")
                results.append((response.status_code, detail))
                if index % 10 == 9:
                    health = await client.get("/health")
                    assert health.status_code == 200, f"/health answered {health.status_code}"
            await app.state.docs.wait_idle()
    finally:
        await engine.dispose()
    return results


def main() -> None:
    """Build the corpus, check each file in PyMuPDF, upload it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="write the corpus to this directory and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pdf-corpus-") as scratch:
        out = args.keep or Path(scratch) / "files"
        out.mkdir(parents=True, exist_ok=True)
        files = corpus(out)
        if args.keep:
            for _, name, data in files:
                (out / "corpus").mkdir(exist_ok=True)
                (out / "corpus" / f"{name.replace(' ', '_')}.pdf").write_bytes(data)
        results = asyncio.run(upload_all(files, Path(scratch) / "data"))
    by_producer: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    refused: list[str] = []
    errors = 0
    for (producer, name, data), (status, detail) in zip(files, results, strict=True):
        counts = by_producer[producer]
        counts["files"] += 1
        can, repaired = renderable(data)
        counts["renderable"] += can
        counts["repaired"] += can and repaired
        counts["accepted"] += status == 201
        if status >= 500:
            errors += 1
            print(f"SERVER ERROR {status}: {name}")
        elif status != 201 and can:
            counts["refused"] += 1
            refused.append(f"{name}: {detail}")
        elif status == 201 and not can:
            counts["accepted, not renderable here"] += 1
    print(
        f"{'producer':<12} {'files':>6} {'renderable':>11} {'of which repaired':>18} {'accepted':>9} "
        f"{'refused (renderable)':>21}"
    )
    for producer, counts in sorted(by_producer.items()):
        print(
            f"{producer:<12} {counts['files']:>6} {counts['renderable']:>11} {counts['repaired']:>18} "
            f"{counts['accepted']:>9} {counts['refused']:>21}"
        )
    for line in refused:
        print("refused:", line)
    total = sum(c["renderable"] for c in by_producer.values())
    count = sum(c["refused"] for c in by_producer.values())
    print(
        f"{len(files)} files; refused {count} of {total} renderable ({100 * count / max(total, 1):.1f} %), "
        f"server errors {errors}, ratio {count / max(total, 1):.4f}"
    )


if __name__ == "__main__":
    main()
