"""HTTP endpoints of the room: the annotations a caller may see on a document version."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import FromPath

from meeting.agenda import Access, provide_access
from meeting.db import DbSession
from meeting.rooms import service
from meeting.rooms.schemas import AnnotationList
from meeting.rooms.socket import room_socket


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


# What this domain adds to the app (gathered by meeting/app.py).
route_handlers = [AnnotationController, room_socket]
