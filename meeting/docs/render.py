"""Page images: rendered in the worker pool, cached on disk, page 1 first and the rest in the background."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select, update

from meeting.docs import office
from meeting.docs.models import Document, DocumentVersion
from meeting.docs.schemas import DEFAULT_WIDTH, RENDER_WIDTHS, DocumentRenderProgress
from meeting.docs.storage import BlobStore
from meeting.docs.worker import PdfInfo, Source, Target, WorkerFailed, WorkerPool, pool_for
from meeting.errors import Code, InvalidInput

if TYPE_CHECKING:
    from collections.abc import Coroutine
    from pathlib import Path

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from meeting.broker import Broker
    from meeting.settings import Settings

log = logging.getLogger("meeting.docs.render")
_T = TypeVar("_T")

# At most ~2 progress events per second per document: tablets need the trend, not every page.
PROGRESS_INTERVAL = 0.5
THUMBNAIL_WIDTH = RENDER_WIDTHS[0]
IMAGE_FORMATS = ("jpeg", "png", "webp")


def snap_width(width: int | None) -> int:
    """The supported width closest to the one asked for (the cache holds only these)."""
    if width is None:
        return DEFAULT_WIDTH
    return min(RENDER_WIDTHS, key=lambda candidate: (abs(candidate - width), -candidate))


class DocsRuntime:
    """What the documents domain needs at run time: storage, the worker pool, background rendering."""

    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession] | None = None,
        broker: Broker | None = None,
    ) -> None:
        if settings.page_image_format not in IMAGE_FORMATS:
            raise ValueError(f"page_image_format must be one of {', '.join(IMAGE_FORMATS)}")
        self.settings = settings
        self.session_factory = session_factory
        self.broker = broker
        self.store = BlobStore(settings.data_dir)
        self.pool: WorkerPool = pool_for(settings)
        self._inflight: dict[Path, asyncio.Future[None]] = {}
        self._jobs: set[asyncio.Task[Any]] = set()
        self._queries: set[asyncio.Task[Any]] = set()
        self._conversions = asyncio.Semaphore(max(1, settings.office_conversions))

    @property
    def image_format(self) -> str:
        """The configured page image format."""
        return self.settings.page_image_format

    async def _run(self, name: str, *args: Any) -> Any:
        """Run `meeting.docs.pdf.<name>` in a worker under the configured deadline."""
        return await self.pool.run(name, *args, timeout=self.settings.worker_timeout_seconds)

    # The worker tasks, typed; the server process never imports meeting.docs.pdf (nor PyMuPDF) itself.

    async def inspect_pdf(self, path: Path) -> PdfInfo:
        """Check an uploaded PDF against the limits and read each page's size and text."""
        info: PdfInfo = await self._run(
            "inspect_pdf", Source(path), self.settings.max_pages, self.settings.max_page_points
        )
        return info

    async def repair_pdf(self, source: Path, out: Path) -> None:
        """A clean, garbage-collected copy of a PDF that MuPDF repaired on opening."""
        await self._run("repair_pdf", Source(source), Target(out))

    async def office_to_pdf(self, source: Path, kind: str, out: Path) -> None:
        """Convert an Office file (`kind` "docx" … "ppt") to PDF with LibreOffice, one conversion at a
        time per `office_conversions`, each under the configured time and memory limits.

        Raises:
            ConversionFailed: LibreOffice is missing, failed, or ran out of time.
        """
        async with self._conversions:
            await office.convert(
                self.settings.office_program,
                source,
                kind,
                out,
                timeout=self.settings.office_timeout_seconds,
                memory_bytes=self.settings.office_memory_bytes,
            )

    async def images_to_pdf(self, images: list[Path], out: Path) -> None:
        """Lay out JPEG/PNG scans, one per page, into a new PDF."""
        await self._run("images_to_pdf", [Source(image) for image in images], Target(out))

    async def watermark(self, source: Path, out: Path, stamp: str, footer: str) -> None:
        """A copy of the PDF with a diagonal stamp (none if empty) and a footer on every page."""
        await self._run("watermark", Source(source), Target(out), stamp, footer)

    async def html_to_pdf(self, body: str, css: str, title: str, columns: list[str] | None = None) -> bytes:
        """A PDF laid out from HTML and CSS (the minutes), then `columns` side by side (signatures)."""
        pdf: bytes = await self._run("html_to_pdf", body, css, title, columns)
        return pdf

    async def make_demo_pdf(self, title: str, paragraphs: list[str], pages: int) -> bytes:
        """A sample document for the demo data."""
        pdf: bytes = await self._run("make_demo_pdf", title, paragraphs, pages)
        return pdf

    async def page_image(self, sha256: str, page: int, width: int) -> Path:
        """The cached image of a page, rendered now if not cached yet (concurrent asks share one render).

        Raises:
            InvalidInput: the page could not be rendered.
        """
        path = self.store.page_path(sha256, page, width, self.image_format)
        if path.exists():
            return path
        pending = self._inflight.get(path)
        if pending is not None:
            await asyncio.shield(pending)
            return path
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight[path] = future
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            await self._run(
                "render_page",
                Source(self.store.blob_path(sha256)),
                page,
                width,
                self.image_format,
                Target(path),
            )
            future.set_result(None)
        except WorkerFailed as exc:
            refused = InvalidInput(Code.DOCUMENT_UNREADABLE, f"page {page} could not be rendered: {exc}")
            future.set_exception(refused)
            future.exception()  # retrieved here, so a future nobody else awaited is not reported
            raise refused from exc
        except BaseException as exc:
            future.cancel()
            raise exc
        finally:
            del self._inflight[path]
        return path

    def schedule(
        self, meeting_id: int, document_id: int, version_id: int, sha256: str, page_count: int
    ) -> None:
        """Render a new version in the background: page 1 first, then the rest on every worker."""
        self._background(self.render_version(meeting_id, document_id, version_id, sha256, page_count))

    def resume(self) -> None:
        """Finish in the background the renders that a stop or a crash cut short, oldest version first."""
        self._background(self._resume())

    def _background(self, job: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)

    async def _unstoppable(self, query: Coroutine[Any, Any, _T]) -> _T:
        # Shutdown cancels background renders; a database call cancelled half-way leaves its connection
        # neither returned nor closed, so the call runs on in a task of its own that `close` waits for.
        task = asyncio.get_running_loop().create_task(query)
        self._queries.add(task)
        task.add_done_callback(self._queries.discard)
        return await asyncio.shield(task)

    async def _resume(self) -> None:
        if self.session_factory is None:
            return
        rows = await self._unstoppable(self._unfinished(self.session_factory))
        if rows:
            log.info("resuming the page rendering of %d document versions", len(rows))
        for meeting_id, document_id, version_id, sha256, page_count in rows:
            if not self.store.blob_path(sha256).exists():
                log.warning("version %s: its file %s is missing; not rendering it", version_id, sha256)
                continue
            await self.render_version(meeting_id, document_id, version_id, sha256, page_count)

    async def _unfinished(
        self, session_factory: async_sessionmaker[AsyncSession]
    ) -> list[tuple[int, int, int, str, int]]:
        # `rendered_pages` is written as pages finish, so a version short of its page count was cut off
        # (or has pages that failed, which are tried once more). Pages already cached are skipped.
        try:
            async with session_factory() as session:
                rows = (
                    await session.execute(
                        select(
                            Document.meeting_id,
                            Document.id,
                            DocumentVersion.id,
                            DocumentVersion.sha256,
                            DocumentVersion.page_count,
                        )
                        .join(Document, Document.id == DocumentVersion.document_id)
                        .where(
                            DocumentVersion.rendered_pages < DocumentVersion.page_count,
                            Document.deleted_at.is_(None),
                        )
                        .order_by(DocumentVersion.id)
                    )
                ).all()
        except Exception:  # the database may be down at startup: pages are still rendered on demand
            log.exception("could not look for unfinished page renders")
            return []
        return [(row[0], row[1], row[2], row[3], row[4]) for row in rows]

    async def render_version(
        self,
        meeting_id: int,
        document_id: int,
        version_id: int,
        sha256: str,
        page_count: int,
        widths: tuple[int, ...] = (DEFAULT_WIDTH, THUMBNAIL_WIDTH),
        publish: bool = True,
    ) -> int:
        """Render every page at `widths`, publishing throttled progress; returns the pages rendered."""
        rendered = 0
        published_at = 0.0

        async def one(page: int) -> None:
            nonlocal rendered, published_at
            try:
                for width in widths:
                    await self.page_image(sha256, page, width)
            except InvalidInput as exc:
                log.warning("version %s: %s", version_id, exc.detail)
                return
            rendered += 1
            now = time.monotonic()
            if publish and (page == 1 or now - published_at >= PROGRESS_INTERVAL or rendered == page_count):
                published_at = now
                await self._progress(meeting_id, document_id, version_id, page_count, rendered)

        await one(1)
        pages = iter(range(2, page_count + 1))

        async def consume() -> None:
            for page in pages:  # a shared iterator: each worker takes the next page in order
                await one(page)

        await asyncio.gather(*(consume() for _ in range(self.pool.size)))
        if publish and rendered != page_count:
            await self._progress(meeting_id, document_id, version_id, page_count, rendered)
        return rendered

    async def _progress(
        self, meeting_id: int, document_id: int, version_id: int, count: int, rendered: int
    ) -> None:
        if self.session_factory is None:
            return
        await self._unstoppable(
            self._record(self.session_factory, meeting_id, document_id, version_id, count, rendered)
        )

    async def _record(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        meeting_id: int,
        document_id: int,
        version_id: int,
        count: int,
        rendered: int,
    ) -> None:
        try:
            async with session_factory() as session:
                advanced = await session.scalar(
                    update(DocumentVersion)
                    .where(DocumentVersion.id == version_id, DocumentVersion.rendered_pages < rendered)
                    .values(rendered_pages=rendered)
                    .returning(DocumentVersion.id)
                )
                if advanced is None:
                    # No step forward (a resumed render counts from zero again): tablets never see
                    # progress go back.
                    return
                event = DocumentRenderProgress(
                    document_id=document_id, version_id=version_id, page_count=count, rendered_pages=rendered
                )
                if self.broker is not None:
                    await self.broker.commit(session, meeting_id, [event])
                else:
                    await session.commit()
        except Exception:  # progress is advisory: the pages themselves are on disk and served on demand
            log.exception("could not record render progress of version %s", version_id)

    async def wait_idle(self) -> None:
        """Wait for background rendering to finish (tests, benchmarks, the demo)."""
        while self._jobs:
            await asyncio.gather(*list(self._jobs), return_exceptions=True)

    async def close(self) -> None:
        """Stop background rendering (the worker pool is process-wide and outlives the app)."""
        for task in list(self._jobs):
            task.cancel()
        for task in list(self._jobs):
            with contextlib.suppress(BaseException):
                await task
        await asyncio.gather(*list(self._queries), return_exceptions=True)
