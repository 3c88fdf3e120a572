"""HTTP endpoints of meeting materials: upload, versions, pages, status, search, downloads."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
)
from litestar.openapi.spec import Schema as OpenAPISchema
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import File, Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from meeting.agenda import Access, provide_access
from meeting.broker import Publisher
from meeting.db import DbSession
from meeting.docs import service, signatures
from meeting.docs.deps import Docs, provide_docs
from meeting.docs.models import DocumentClassification
from meeting.docs.render import DocsRuntime
from meeting.docs.schemas import (
    DocumentProgress,
    DocumentRead,
    DocumentUpdate,
    SearchHit,
    SignatureRequest,
)
from meeting.docs.search import SearchFilter, search
from meeting.docs.signing import SignatureReport
from meeting.docs.text import content_disposition
from meeting.docs.upload import Upload, receive_upload
from meeting.users import CurrentUser

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

# Content-addressed: a page image never changes, so tablets keep it for a year without asking again.
IMMUTABLE = "private, max-age=31536000, immutable"
PAGE_CHUNK = 64 * 1024


async def _chunks(handle: IO[bytes]) -> AsyncIterator[bytes]:
    """A cached page image in chunks, never whole in memory (a thousand tablets may ask at once).

    Read in the event loop: the file is local and hot in the OS's cache, where a read costs less than
    handing it to a thread and back.
    """
    with handle:
        while chunk := handle.read(PAGE_CHUNK):
            yield chunk


@dataclass
class UploadOperation(Operation):
    """OpenAPI of the upload endpoints: they stream the multipart body themselves, so it is described here."""

    def __post_init__(self) -> None:
        binary = OpenAPISchema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
        form = OpenAPISchema(
            type=OpenAPIType.OBJECT,
            properties={
                "file": OpenAPISchema(type=OpenAPIType.ARRAY, items=binary, description="PDF, or JPEG/PNG"),
                "agendaItemId": OpenAPISchema(type=OpenAPIType.INTEGER),
                "title": OpenAPISchema(type=OpenAPIType.STRING),
                "classification": OpenAPISchema(
                    type=OpenAPIType.STRING, enum=list(DocumentClassification), default="ordinary"
                ),
            },
            required=["file"],
        )
        self.request_body = RequestBody(
            required=True, content={"multipart/form-data": OpenAPIMediaType(schema=form)}
        )


async def _receive(request: Request[Any, Any, Any], docs: DocsRuntime) -> Upload:
    return await receive_upload(
        request.stream(),
        request.headers.get("content-type", ""),
        int(request.headers["content-length"])
        if request.headers.get("content-length", "").isdigit()
        else None,
        docs.settings.upload_limit_bytes,
        docs.store,
    )


class DocumentController(Controller):
    """A meeting's documents: upload, replace, delete, read, sign, page images, search, download."""

    path = "/api/meetings/{meeting_id:int}"
    tags = ["documents"]
    dependencies = {
        "access": Provide(provide_access),
        "docs": Provide(provide_docs, sync_to_thread=False),
    }

    # The body is streamed to disk under the documents' own limit, not the JSON body limit.
    @post(
        "/documents",
        status_code=HTTP_201_CREATED,
        request_max_body_size=None,
        operation_class=UploadOperation,
    )
    async def upload_document(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        broker: Publisher,
        access: Access,
        docs: Docs,
    ) -> DocumentRead:
        """Upload a PDF, or JPEG/PNG scans (several files make one document); fields agendaItemId, title,
        classification (ordinary or confidential)."""
        access.require_manager()  # before reading a byte of a possibly large body
        upload = await _receive(request, docs)
        return await service.upload_document(db_session, broker, docs, access, upload)

    @get("/documents")
    async def list_documents(self, db_session: DbSession, access: Access) -> list[DocumentRead]:
        """The meeting's documents."""
        return await service.list_documents(db_session, access)

    @get("/documents/{document_id:int}")
    async def get_document(
        self, db_session: DbSession, access: Access, document_id: FromPath[int]
    ) -> DocumentRead:
        """One document with its current version."""
        return await service.get_document(db_session, access, document_id)

    @post(
        "/documents/{document_id:int}/versions",
        status_code=HTTP_201_CREATED,
        request_max_body_size=None,
        operation_class=UploadOperation,
    )
    async def replace_document(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        broker: Publisher,
        access: Access,
        docs: Docs,
        document_id: FromPath[int],
    ) -> DocumentRead:
        """Upload a new version; the old one stays readable (and keeps its annotations)."""
        access.require_manager()
        await service.load_document(db_session, access, document_id)
        upload = await _receive(request, docs)
        return await service.replace_document(db_session, broker, docs, access, document_id, upload)

    @patch("/documents/{document_id:int}")
    async def update_document(
        self,
        db_session: DbSession,
        broker: Publisher,
        access: Access,
        document_id: FromPath[int],
        data: JSONBody[DocumentUpdate],
    ) -> DocumentRead:
        """Rename a document, change its classification, mark it a resolution or not (chair, secretary)."""
        return await service.update_document(db_session, broker, access, document_id, data)

    @post("/documents/{document_id:int}/sign", status_code=HTTP_200_OK)
    async def sign_document(
        self,
        db_session: DbSession,
        broker: Publisher,
        state: State,
        access: Access,
        docs: Docs,
        document_id: FromPath[int],
        data: JSONBody[SignatureRequest],
    ) -> DocumentRead:
        """The chair signs a resolution: the signed PDF becomes its next version (the chair only)."""
        return await signatures.sign_resolution(
            db_session, broker, docs, state.settings, access, document_id, data
        )

    @get("/documents/{document_id:int}/signatures")
    async def document_signatures(
        self, db_session: DbSession, state: State, access: Access, docs: Docs, document_id: FromPath[int]
    ) -> SignatureReport:
        """The signatures of the current version, each checked: signer, time, trust, integrity."""
        return await signatures.document_signatures(db_session, docs, state.settings, access, document_id)

    @delete("/documents/{document_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def delete_document(
        self, db_session: DbSession, broker: Publisher, access: Access, document_id: FromPath[int]
    ) -> None:
        """Remove a document from listings and search."""
        await service.delete_document(db_session, broker, access, document_id)

    @get("/documents/{document_id:int}/status")
    async def render_status(
        self, db_session: DbSession, access: Access, document_id: FromPath[int]
    ) -> DocumentProgress:
        """How many pages of the current version are rendered."""
        return await service.progress(db_session, access, document_id)

    @get("/documents/{document_id:int}/versions/{version_id:int}/pages/{page:int}")
    async def page_image(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        access: Access,
        docs: Docs,
        document_id: FromPath[int],
        version_id: FromPath[int],
        page: FromPath[int],
        width: Annotated[int | None, QueryParameter(description="200, 1280 or 2048 (snapped)", ge=1)] = None,
    ) -> Response[bytes] | Stream:
        """A page image (JPEG by default), rendered on demand if its turn has not come yet."""
        ref = await service.locate_page(db_session, docs, access, document_id, version_id, page, width)
        await db_session.rollback()  # release the connection while the worker renders
        headers = {"ETag": ref.etag, "Cache-Control": IMMUTABLE}
        if ref.etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
            return Response(b"", status_code=304, headers=headers)
        handle = (await docs.page_image(ref.sha256, ref.page, ref.width)).open("rb")
        size = os.fstat(handle.fileno()).st_size
        headers["Content-Length"] = str(size)
        return Stream(_chunks(handle), media_type=ref.media_type, headers=headers)

    @get("/documents/{document_id:int}/download")
    async def download(
        self,
        db_session: DbSession,
        access: Access,
        docs: Docs,
        document_id: FromPath[int],
        version: Annotated[
            int | None, QueryParameter(description="a version id; the current one by default")
        ] = None,
        original: Annotated[
            bool, QueryParameter(description="the unstamped file (chair, secretary)")
        ] = False,
    ) -> File:
        """A PDF stamped with your name, the time and the meeting; the original for chair and secretary."""
        result = await service.download(db_session, docs, access, document_id, version, original)
        return File(
            path=result.path,
            filename=result.file_name,
            media_type=result.media_type,
            headers={
                "Content-Disposition": content_disposition(result.file_name),
                "Cache-Control": "no-store",
            },
            background=BackgroundTask(result.path.unlink, missing_ok=True) if result.temporary else None,
        )

    @get("/search")
    async def search(
        self,
        db_session: DbSession,
        access: Access,
        q: Annotated[
            str, QueryParameter(description="words to find, with or without diacritics", max_length=200)
        ],
    ) -> list[SearchHit]:
        """Pages of the meeting's documents containing every word, best first, with highlighted snippets."""
        return await service.search(db_session, access, q)


# What this domain adds to the app (gathered by meeting/app.py).
class SearchController(Controller):
    """Search across every meeting the caller takes part in (all meetings for an admin)."""

    path = "/api/search"
    tags = ["documents"]

    @get("/")
    async def search_everywhere(
        self,
        db_session: DbSession,
        current_user: CurrentUser,
        q: Annotated[
            str, QueryParameter(description="words to find, with or without diacritics", max_length=200)
        ],
        meeting_id: Annotated[
            int | None, QueryParameter(name="meetingId", description="only this meeting", ge=1, le=2**63 - 1)
        ] = None,
        starts_from: Annotated[
            dt.datetime | None, QueryParameter(name="from", description="meetings starting at or after")
        ] = None,
        starts_before: Annotated[
            dt.datetime | None, QueryParameter(name="to", description="meetings starting before")
        ] = None,
    ) -> list[SearchHit]:
        """Pages of the documents I may read, in every meeting I take part in, best first."""
        where = SearchFilter(meeting_id=meeting_id, starts_from=starts_from, starts_before=starts_before)
        return await search(db_session, current_user, q, where)


route_handlers = [DocumentController, SearchController]
