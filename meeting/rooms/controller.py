"""HTTP endpoints of the room: the annotations a caller may see on a document version."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import FromPath

from meeting.agenda import provide_access
from meeting.agenda.controller import Access
from meeting.db import DbSession
from meeting.rooms import service
from meeting.rooms.schemas import AnnotationList


class AnnotationController(Controller):
    """Annotations of a document version, as the caller sees them."""

    path = "/api/meetings/{meeting_id:int}/documents/{document_id:int}/versions/{version_id:int}/annotations"
    tags = ["rooms"]
    dependencies = {"access": Provide(provide_access)}

    @get("/")
    async def list_annotations(
        self, db_session: DbSession, access: Access, document_id: FromPath[int], version_id: FromPath[int]
    ) -> AnnotationList:
        """Shared annotations and the caller's own private ones, page by page."""
        return await service.list_annotations(db_session, access, document_id, version_id)
