"""HTTP endpoint of the mail domain: what the secretary sees of a meeting's invitations."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import Provide

from meeting.agenda import Access, provide_access
from meeting.db import DbSession
from meeting.mail import service
from meeting.mail.deps import MailOutbox
from meeting.mail.schemas import InvitationsRead


class InvitationController(Controller):
    """Delivery state of a meeting's mail."""

    path = "/api/meetings/{meeting_id:int}/invitations"
    tags = ["mail"]
    dependencies = {"access": Provide(provide_access)}

    @get("/")
    async def list_invitations(
        self, db_session: DbSession, outbox: MailOutbox, access: Access
    ) -> InvitationsRead:
        """Each participant's invitations, updates and reminders: sent, failed (why), or when retried."""
        return await service.deliveries(db_session, outbox, access)


# What this domain adds to the app (gathered by meeting/app.py).
route_handlers = [InvitationController]
