"""Rules of meeting materials: upload, versions, delete, page access, search, downloads."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import unicodedata
import zoneinfo
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from meeting import audit
from meeting.agenda.models import AgendaItem
from meeting.db import get_in_meeting, utcnow
from meeting.docs import office
from meeting.docs import text as textrules
from meeting.docs.models import (
    Document,
    DocumentClassification,
    DocumentDownload,
    DocumentPage,
    DocumentVersion,
)
from meeting.docs.render import snap_width
from meeting.docs.schemas import (
    DocumentAdded,
    DocumentChanged,
    DocumentProgress,
    DocumentRead,
    DocumentRemoved,
    SearchHit,
    VersionRead,
)
from meeting.docs.search import SearchFilter
from meeting.docs.search import search as search_pages
from meeting.docs.storage import sha256_of
from meeting.docs.worker import MAX_TASK_FILES, PdfInfo, WorkerFailed
from meeting.errors import Code, Conflict, InvalidInput, NotFound, UnsupportedMedia

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.agenda import MeetingAccess
    from meeting.broker import Broker, Event
    from meeting.docs.render import DocsRuntime
    from meeting.docs.schemas import DocumentUpdate
    from meeting.docs.upload import Incoming, Upload

log = logging.getLogger("meeting.docs")

ACCEPTED = "PDF, JPEG, PNG"
# Scanned images of one upload: the worker gets them and the PDF they become in one task.
MAX_IMAGES = MAX_TASK_FILES - 1
MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_CLAIMS = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/png": "png",
    ".pdf": "pdf",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".png": "png",
    **{f".{kind}": kind for kind in office.MEDIA_TYPES},
    **{media_type: kind for kind, media_type in office.MEDIA_TYPES.items()},
}


# ---------------------------------------------------------------------------------------------- reading


def sniff(path: Path) -> str | None:
    """What a file really is, from its first bytes: "pdf", "jpeg", "png" or None."""
    with path.open("rb") as handle:
        head = handle.read(1024)
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def accepted(runtime: DocsRuntime) -> str:
    """The file types uploads may have on this server (Office ones where LibreOffice is installed)."""
    if office.available(runtime.settings.office_program):
        return f"{ACCEPTED}, {office.ACCEPTED}"
    return f"{ACCEPTED} (Office files need LibreOffice on the server)"


def _claimed(incoming: Incoming) -> str | None:
    suffix = PurePosixPath(incoming.file_name.lower()).suffix
    return _CLAIMS.get(incoming.content_type) or _CLAIMS.get(suffix)


def clean_file_name(name: str) -> str:
    """The last path component of a client's file name, NFC (macOS sends NFD), at most 255 characters."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    name = "".join(c for c in name if c.isprintable())
    return (name or "tai-lieu.pdf")[:255]


def _pdf_name(name: str) -> str:
    path = PurePosixPath(name)
    return name if path.suffix.lower() == ".pdf" else f"{path.stem or 'tai-lieu'}.pdf"


@dataclass
class Original:
    """The file as received, kept beside the PDF made from it (an Office file, a repaired PDF)."""

    path: Path
    sha256: str
    file_name: str
    media_type: str


@dataclass
class Prepared:
    """A verified PDF waiting in the temporary folder, with what the worker read from it."""

    path: Path
    sha256: str
    size: int
    file_name: str
    pages: list[tuple[float, float, str]]
    original: Original | None = None


async def _prepare(runtime: DocsRuntime, upload: Upload) -> Prepared:
    """Check the uploaded files and turn them into one verified PDF (images become one page each)."""
    files = upload.files
    if not files:
        raise InvalidInput(Code.DOCUMENT_NO_FILE, "attach a file in the form field 'file'")
    kinds: list[str] = []
    for incoming in files:
        kind = sniff(incoming.path) or office.office_kind(incoming.path, incoming.file_name)
        if kind is None:
            claimed = _claimed(incoming)
            name = clean_file_name(incoming.file_name)
            if incoming.size == 0:
                raise InvalidInput(Code.DOCUMENT_EMPTY_FILE, f"{name} is empty")
            if claimed is None:
                raise UnsupportedMedia(
                    Code.DOCUMENT_UNSUPPORTED_TYPE,
                    f"{name} is not an accepted file type; accepted: {accepted(runtime)}",
                )
            raise InvalidInput(Code.DOCUMENT_UNREADABLE, f"{name} is not a valid {claimed.upper()} file")
        kinds.append(kind)
    first = clean_file_name(files[0].file_name)
    original: Original | None = None
    if len(files) == 1 and kinds[0] == "pdf":
        path, sha256, size = files[0].path, files[0].sha256, files[0].size
    elif len(files) == 1 and kinds[0] in office.MEDIA_TYPES:
        path = await _converted(runtime, files[0], kinds[0], first)
        original = Original(files[0].path, files[0].sha256, first, office.MEDIA_TYPES[kinds[0]])
        sha256 = await asyncio.to_thread(sha256_of, path)
        size = path.stat().st_size
    elif any(kind not in ("jpeg", "png") for kind in kinds):
        raise InvalidInput(
            Code.DOCUMENT_MIXED_FILES, "upload one PDF or Office file, or one or more JPEG/PNG images"
        )
    elif len(files) > MAX_IMAGES:
        raise InvalidInput(
            Code.DOCUMENT_TOO_MANY_IMAGES,
            f"upload at most {MAX_IMAGES} images at once; scan a longer document to one PDF",
        )
    else:
        path = runtime.store.temporary(".pdf")
        try:
            await runtime.images_to_pdf([f.path for f in files], path)
        except WorkerFailed as exc:
            path.unlink(missing_ok=True)
            raise InvalidInput(Code.DOCUMENT_UNREADABLE, f"{first}: {exc}") from exc
        sha256 = await asyncio.to_thread(sha256_of, path)
        size = path.stat().st_size
    try:
        info = await runtime.inspect_pdf(path)
    except WorkerFailed as exc:
        if path != files[0].path:  # made here (from scans, by LibreOffice): nobody else removes it
            path.unlink(missing_ok=True)
        raise InvalidInput(Code.DOCUMENT_UNREADABLE, f"{first}: {exc}") from exc
    # A signed file is served as received: a clean copy would break its signatures (MuPDF repairs it
    # on every open instead).
    if info.repaired and not info.signed:
        clean = await _repaired(runtime, path)
        if clean is not None:
            if original is None:
                original = Original(path=path, sha256=sha256, file_name=first, media_type="application/pdf")
            else:  # LibreOffice's own PDF needed a repair: the Office file stays the original
                path.unlink(missing_ok=True)
            path, info = clean
            sha256 = await asyncio.to_thread(sha256_of, path)
            size = path.stat().st_size
    return Prepared(
        path=path, sha256=sha256, size=size, file_name=_pdf_name(first), pages=info.pages, original=original
    )


async def _converted(runtime: DocsRuntime, incoming: Incoming, kind: str, name: str) -> Path:
    """The PDF LibreOffice makes of an Office file, in the temporary folder.

    Raises:
        UnsupportedMedia: LibreOffice is not installed here.
        InvalidInput: the conversion failed or ran out of time (nothing is kept).
    """
    if not office.available(runtime.settings.office_program):
        raise UnsupportedMedia(
            Code.DOCUMENT_OFFICE_UNAVAILABLE,
            f"{name}: Office files cannot be converted on this server (LibreOffice is not installed); "
            "upload it as PDF",
        )
    path = runtime.store.temporary(".pdf")
    try:
        await runtime.office_to_pdf(incoming.path, kind, path)
    except office.ConversionFailed as exc:
        path.unlink(missing_ok=True)
        raise InvalidInput(
            Code.DOCUMENT_CONVERSION_FAILED, f"{name} could not be converted to PDF: {exc}"
        ) from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


async def _repaired(runtime: DocsRuntime, path: Path) -> tuple[Path, PdfInfo] | None:
    """A clean copy of a PDF that MuPDF had to repair on opening, and what it holds; None when the copy
    cannot be written or read (the received file is then served as it is: MuPDF repairs it each time)."""
    clean = runtime.store.temporary(".pdf")
    try:
        await runtime.repair_pdf(path, clean)
        return clean, await runtime.inspect_pdf(clean)
    except WorkerFailed as exc:
        log.info("a repaired PDF could not be stored clean, keeping it as received: %s", exc)
        clean.unlink(missing_ok=True)
        return None


async def _store_version(
    session: AsyncSession,
    runtime: DocsRuntime,
    upload: Upload,
    document: Document,
    number: int,
    user_id: int | None,
    make_event: type[DocumentAdded] | type[DocumentChanged],
    broker: Broker | None,
    signature_field: str | None = None,
) -> DocumentRead:
    """Verify, store the blob, write version and pages, commit and announce; undo the blob on failure.

    `signature_field` names the signature a signed version was made by adding (None for uploads).
    """
    created = kept = False
    prepared: Prepared | None = None
    try:
        prepared = await _prepare(runtime, upload)
        if not document.title:
            document.title = PurePosixPath(prepared.file_name).stem[:200] or prepared.file_name[:200]
        created = runtime.store.put(prepared.path, prepared.sha256)
        original = prepared.original
        if original is not None:
            kept = runtime.store.put(original.path, original.sha256, original=True)
        if document.id is None:
            session.add(document)
            await session.flush()
        version = DocumentVersion(
            document_id=document.id,
            number=number,
            sha256=prepared.sha256,
            size_bytes=prepared.size,
            page_count=len(prepared.pages),
            rendered_pages=0,
            file_name=prepared.file_name,
            original_sha256=original.sha256 if original else None,
            original_name=original.file_name if original else None,
            original_type=original.media_type if original else None,
            signature_field=signature_field,
            created_by_id=user_id,
            created_at=utcnow(),
        )
        session.add(version)
        taken = f"document {document.id} got version {number} from someone else meanwhile; try again"
        try:
            await session.flush()
        except IntegrityError as exc:  # UNIQUE(document, number): another version was saved meanwhile
            raise Conflict(Code.DOCUMENT_CHANGED_MEANWHILE, taken) from exc
        document.current_version_id = version.id
        await session.execute(
            insert(DocumentPage),
            [
                {
                    "version_id": version.id,
                    "number": index,
                    "width_pt": width,
                    "height_pt": height,
                    "has_text": bool(page_text.strip()),
                    "text": page_text,
                    "folded": textrules.fold(page_text),
                }
                for index, (width, height, page_text) in enumerate(prepared.pages, start=1)
            ],
        )
        details: dict[str, object] = {
            "document": document.id,
            "version": version.id,
            "sha256": version.sha256,
            "by": user_id,
        }
        if signature_field is not None:
            details["signature"] = signature_field
        await audit.append(session, document.meeting_id, "document.version", details)
        read = await _read(session, document)
        await _commit(session, broker, document.meeting_id, [make_event(document=read)])
    except BaseException:
        await session.rollback()
        if created and prepared is not None:
            runtime.store.remove(prepared.sha256)
        if kept and prepared is not None and prepared.original is not None:
            runtime.store.remove_original(prepared.original.sha256)
        raise
    finally:
        upload.discard()
        if prepared is not None:
            prepared.path.unlink(missing_ok=True)
            if prepared.original is not None:
                prepared.original.path.unlink(missing_ok=True)
    if runtime.session_factory is not None:
        runtime.schedule(document.meeting_id, document.id, version.id, version.sha256, version.page_count)
    return read


async def _commit(session: AsyncSession, broker: Broker | None, meeting_id: int, events: list[Event]) -> None:
    if broker is None:
        await session.commit()
    else:
        await broker.commit(session, meeting_id, events)


async def _read(session: AsyncSession, document: Document) -> DocumentRead:
    versions = list(
        await session.scalars(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == document.id)
            .order_by(DocumentVersion.number)
        )
    )
    current = next(v for v in versions if v.id == document.current_version_id)
    textless = list(
        await session.scalars(
            select(DocumentPage.number)
            .where(DocumentPage.version_id == current.id, DocumentPage.has_text.is_(False))
            .order_by(DocumentPage.number)
        )
    )
    return DocumentRead.from_row(
        document,
        current_version=_version_read(document, current, textless),
        version_ids=[v.id for v in versions],
    )


def _version_read(document: Document, version: DocumentVersion, textless: list[int]) -> VersionRead:
    return VersionRead.from_row(
        version,
        textless_pages=textless,
        signed=version.signature_field is not None,
        pages_url=f"/api/meetings/{document.meeting_id}/documents/{document.id}/versions/{version.id}/pages",
    )


async def _check_item(session: AsyncSession, meeting_id: int, agenda_item_id: int | None) -> None:
    if agenda_item_id is None:
        return
    if await get_in_meeting(session, AgendaItem, agenda_item_id, meeting_id) is None:
        raise InvalidInput(
            Code.DOCUMENT_UNKNOWN_AGENDA_ITEM, f"agenda item {agenda_item_id} is not in meeting {meeting_id}"
        )


def _item_id(upload: Upload) -> int | None:
    raw = upload.fields.get("agendaItemId", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidInput(
            Code.DOCUMENT_UNKNOWN_AGENDA_ITEM, f"agendaItemId must be a number, not {raw[:20]!r}"
        )
    return int(raw)


def _classification(upload: Upload) -> DocumentClassification | None:
    """The optional form field `classification` (None when absent or empty: keep the default)."""
    raw = upload.fields.get("classification", "").strip()
    if not raw:
        return None
    try:
        return DocumentClassification(raw)
    except ValueError:
        allowed = ", ".join(DocumentClassification)
        raise InvalidInput(
            Code.DOCUMENT_INVALID_CLASSIFICATION, f"classification must be one of {allowed}, not {raw[:20]!r}"
        ) from None


# ---------------------------------------------------------------------------------------------- writing


async def upload_document(
    session: AsyncSession, broker: Broker | None, runtime: DocsRuntime, access: MeetingAccess, upload: Upload
) -> DocumentRead:
    """Add a document to the meeting from an upload (one PDF, or JPEG/PNG scans)."""
    try:
        access.require_manager()
        access.require_open_record()
        meeting_id = access.meeting.id
        item_id = _item_id(upload)
        await _check_item(session, meeting_id, item_id)
        title = unicodedata.normalize("NFC", upload.fields.get("title", "")).strip()[:200]
        classification = _classification(upload) or DocumentClassification.ordinary
    except BaseException:
        upload.discard()
        raise
    document = Document(
        meeting_id=meeting_id,
        agenda_item_id=item_id,
        title=title,
        classification=classification,
        created_by_id=access.user.id,
        created_at=utcnow(),
    )
    return await _store_version(session, runtime, upload, document, 1, access.user.id, DocumentAdded, broker)


async def add_document(
    session: AsyncSession,
    runtime: DocsRuntime,
    meeting_id: int,
    user_id: int,
    upload: Upload,
    *,
    resolution: bool = False,
) -> DocumentRead:
    """Store a document without a request (the demo seed): no access check, no event."""
    item_id = _item_id(upload)
    await _check_item(session, meeting_id, item_id)
    document = Document(
        meeting_id=meeting_id,
        agenda_item_id=item_id,
        title=upload.fields.get("title", "")[:200],
        classification=_classification(upload) or DocumentClassification.ordinary,
        resolution=resolution,
        created_by_id=user_id,
        created_at=utcnow(),
    )
    return await _store_version(session, runtime, upload, document, 1, user_id, DocumentAdded, None)


async def replace_document(
    session: AsyncSession,
    broker: Broker | None,
    runtime: DocsRuntime,
    access: MeetingAccess,
    document_id: int,
    upload: Upload,
) -> DocumentRead:
    """Upload a new version of a document; earlier versions stay readable."""
    try:
        access.require_manager()
        access.require_open_record()
        document = await load_document(session, access, document_id)
        title = unicodedata.normalize("NFC", upload.fields.get("title", "")).strip()[:200]
        if title:
            document.title = title
        classification = _classification(upload)
        if classification is not None:
            document.classification = classification
    except BaseException:
        upload.discard()
        raise
    return await add_version(session, broker, runtime, access, document, upload)


async def add_version(
    session: AsyncSession,
    broker: Broker | None,
    runtime: DocsRuntime,
    access: MeetingAccess,
    document: Document,
    upload: Upload,
    signature_field: str | None = None,
) -> DocumentRead:
    """Store an upload as the document's next version (the caller has checked who may); the room is told.

    Uploaded versions and signed ones (`signature_field`) take this one path: checked and inspected in
    the worker, rendered, searchable, chained as `document.version`.
    """
    try:
        number = int(
            await session.scalar(
                select(func.max(DocumentVersion.number)).where(DocumentVersion.document_id == document.id)
            )
            or 0
        )
    except BaseException:
        upload.discard()
        raise
    return await _store_version(
        session,
        runtime,
        upload,
        document,
        number + 1,
        access.user.id,
        DocumentChanged,
        broker,
        signature_field,
    )


async def update_document(
    session: AsyncSession, broker: Broker, access: MeetingAccess, document_id: int, data: DocumentUpdate
) -> DocumentRead:
    """Rename a document, change its classification or (un)mark it a resolution, until the record is
    final; the room is told."""
    access.require_manager()
    access.require_open_record()
    document = await load_document(session, access, document_id)
    if data.title is not None:
        # A blank title (spaces only) changes nothing, as at upload.
        document.title = unicodedata.normalize("NFC", data.title).strip() or document.title
    if data.classification is not None:
        document.classification = data.classification
    if data.resolution is not None:
        document.resolution = data.resolution
    read = await _read(session, document)
    await broker.commit(session, document.meeting_id, [DocumentChanged(document=read)])
    return read


async def delete_document(
    session: AsyncSession, broker: Broker, access: MeetingAccess, document_id: int
) -> None:
    """Remove a document from listings and search (its versions stay for the audit trail)."""
    access.require_manager()
    access.require_open_record()
    document = await load_document(session, access, document_id)
    document.deleted_at = utcnow()
    await audit.append(
        session, document.meeting_id, "document.remove", {"document": document.id, "by": access.user.id}
    )
    await broker.commit(session, document.meeting_id, [DocumentRemoved(document_id=document.id)])


async def load_document(session: AsyncSession, access: MeetingAccess, document_id: int) -> Document:
    """A live document of the caller's meeting, or 404."""
    document = await get_in_meeting(session, Document, document_id, access.meeting.id)
    if document is None or document.deleted_at is not None:
        raise NotFound(
            Code.DOCUMENT_NOT_FOUND, f"document {document_id} not found in meeting {access.meeting.id}"
        )
    return document


async def load_version(session: AsyncSession, document: Document, version_id: int | None) -> DocumentVersion:
    """A version of the document (the current one for None), or 404."""
    version = await session.get(DocumentVersion, version_id or document.current_version_id)
    if version is None or version.document_id != document.id:
        raise NotFound(
            Code.DOCUMENT_VERSION_NOT_FOUND, f"version {version_id} of document {document.id} not found"
        )
    return version


@dataclass(frozen=True)
class VersionRef:
    """A version of a document of a meeting, as the room checks a reference to it."""

    document_id: int
    version_id: int
    page_count: int
    # Removed from listings: its pages are no longer served, though the version stays for the record.
    deleted: bool


async def find_version(
    session: AsyncSession, meeting_id: int, document_id: int, version_id: int
) -> VersionRef | None:
    """Version `version_id` of document `document_id` in meeting `meeting_id`, or None.

    One query on primary keys: the room asks this for every page turn.
    """
    row = (
        await session.execute(
            select(DocumentVersion.page_count, Document.deleted_at)
            .join(Document, Document.id == DocumentVersion.document_id)
            .where(
                DocumentVersion.id == version_id,
                DocumentVersion.document_id == document_id,
                Document.meeting_id == meeting_id,
            )
        )
    ).first()
    if row is None:
        return None
    page_count, deleted_at = row
    return VersionRef(document_id, version_id, page_count, deleted=deleted_at is not None)


async def list_documents(session: AsyncSession, access: MeetingAccess) -> list[DocumentRead]:
    """The meeting's documents, oldest first."""
    documents = await session.scalars(
        select(Document)
        .where(Document.meeting_id == access.meeting.id, Document.deleted_at.is_(None))
        .order_by(Document.id)
    )
    return [await _read(session, d) for d in documents]


async def get_document(session: AsyncSession, access: MeetingAccess, document_id: int) -> DocumentRead:
    """One document with its current version."""
    return await _read(session, await load_document(session, access, document_id))


# ---------------------------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class PageRef:
    """A page image to serve: what to render and the validators that let tablets skip it."""

    sha256: str
    page: int
    width: int
    media_type: str
    etag: str


async def locate_page(
    session: AsyncSession,
    runtime: DocsRuntime,
    access: MeetingAccess,
    document_id: int,
    version_id: int,
    page: int,
    width: int | None,
) -> PageRef:
    """Check a page request and name its image; 404 for pages outside the document or the meeting."""
    document = await load_document(session, access, document_id)
    version = await load_version(session, document, version_id)
    if not 1 <= page <= version.page_count:
        raise NotFound(
            Code.PAGE_OUT_OF_RANGE, f"page {page} is out of range (document has {version.page_count} pages)"
        )
    snapped = snap_width(width)
    fmt = runtime.image_format
    # Strong: the bytes for one (content, page, width, format) never change.
    etag = f'"{version.sha256[:32]}-{page}-{snapped}-{fmt}"'
    return PageRef(sha256=version.sha256, page=page, width=snapped, media_type=MEDIA_TYPES[fmt], etag=etag)


async def progress(session: AsyncSession, access: MeetingAccess, document_id: int) -> DocumentProgress:
    """Rendering progress of a document's current version."""
    document = await load_document(session, access, document_id)
    version = await load_version(session, document, None)
    return _progress(document, version)


def _progress(document: Document, version: DocumentVersion) -> DocumentProgress:
    return DocumentProgress(
        document_id=document.id,
        version_id=version.id,
        title=document.title,
        agenda_item_id=document.agenda_item_id,
        page_count=version.page_count,
        rendered_pages=version.rendered_pages,
        done=version.rendered_pages >= version.page_count,
    )


async def titles_by_item(session: AsyncSession, meeting_id: int) -> dict[int, list[str]]:
    """Titles of the documents bound to each agenda item (not deleted), for the minutes."""
    rows = await session.execute(
        select(Document.agenda_item_id, Document.title)
        .where(
            Document.meeting_id == meeting_id,
            Document.agenda_item_id.is_not(None),
            Document.deleted_at.is_(None),
        )
        .order_by(Document.id)
    )
    titles: dict[int, list[str]] = {}
    for item_id, title in rows:
        if item_id is not None:  # filtered above; the check tells the type checker
            titles.setdefault(item_id, []).append(title)
    return titles


async def document_progress(session: AsyncSession, meeting_id: int) -> list[DocumentProgress]:
    """Every live document of a meeting with its rendering progress (for the room snapshot)."""
    rows = await session.execute(
        select(Document, DocumentVersion)
        .join(DocumentVersion, DocumentVersion.id == Document.current_version_id)
        .where(Document.meeting_id == meeting_id, Document.deleted_at.is_(None))
        .order_by(Document.id)
    )
    return [_progress(document, version) for document, version in rows.all()]


# ---------------------------------------------------------------------------------------------- search


async def search(session: AsyncSession, access: MeetingAccess, query: str) -> list[SearchHit]:
    """Pages of the meeting's current documents holding every word, best first, ignoring case and accents
    (words typed with diacritics rank pages spelling them so first)."""
    return await search_pages(session, access.user, query, SearchFilter(meeting_id=access.meeting.id))


# ---------------------------------------------------------------------------------------------- downloads


@dataclass(frozen=True)
class Download:
    """A PDF to send: its path, the name to give it, and whether the file is temporary."""

    path: Path
    file_name: str
    temporary: bool
    media_type: str = "application/pdf"


async def download(
    session: AsyncSession,
    runtime: DocsRuntime,
    access: MeetingAccess,
    document_id: int,
    version_id: int | None,
    original: bool,
) -> Download:
    """A participant's copy stamped with their name, the time and the meeting; the original for managers.

    Every download is written to the audit log before the file is sent.
    """
    document = await load_document(session, access, document_id)
    version = await load_version(session, document, version_id)
    blob = runtime.store.blob_path(version.sha256)
    if original:
        access.require_manager()
        if version.original_sha256 is not None:
            # The file as received (an Office file, a PDF before its repair), as managers keep it.
            result = Download(
                path=runtime.store.original_path(version.original_sha256),
                file_name=version.original_name or version.file_name,
                temporary=False,
                media_type=version.original_type or "application/octet-stream",
            )
        else:
            result = Download(path=blob, file_name=version.file_name, temporary=False)
    else:
        meeting = access.meeting
        try:
            zone = zoneinfo.ZoneInfo(meeting.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        when = dt.datetime.now(zone).strftime("%H:%M %d/%m/%Y")
        name = access.user.display_name
        # Every copy names its reader along the bottom edge; only confidential ones say so across
        # the page (a "mật" stamp on everything would teach readers to ignore it).
        confidential = document.classification == DocumentClassification.confidential
        stamp = f"Tài liệu mật — {name} — {when}" if confidential else ""
        footer = f"Bản của {name} ({access.user.username}) · tải lúc {when} · {meeting.title}"
        out = runtime.store.temporary(".pdf")
        try:
            await runtime.watermark(blob, out, stamp, footer[:300])
        except WorkerFailed as exc:
            out.unlink(missing_ok=True)
            raise InvalidInput(
                Code.DOCUMENT_UNREADABLE, f"document {document.id} could not be stamped: {exc}"
            ) from exc
        stem = PurePosixPath(version.file_name).stem
        result = Download(path=out, file_name=f"{stem} (bản của {name}).pdf", temporary=True)
    session.add(
        DocumentDownload(
            version_id=version.id,
            user_id=access.user.id,
            kind="original" if original else "watermarked",
            created_at=utcnow(),
        )
    )
    try:
        await session.commit()
    except BaseException:
        if result.temporary:
            result.path.unlink(missing_ok=True)
        raise
    return result
