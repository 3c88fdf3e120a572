"""A meeting status changed over the room socket causes the same mail as over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from meeting.db import create_engine, create_session_factory, utcnow
from meeting.mail.sender import MailSender
from meeting.users.models import GlobalRole
from tests.mail.conftest import mail_settings
from tests.mail.test_outbox import ADDRESSED, address, arrange, ics_of, schedule
from tests.support.api import Api, build_council
from tests.support.servers import serve
from tests.support.sockets import TIMEOUT, join

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings
    from tests.mail.conftest import Inbox


async def test_the_chair_cancelling_over_the_socket_sends_the_cancellations(
    settings: Settings, db: AsyncSession, inbox: Inbox
) -> None:
    configured = mail_settings(settings, inbox.port)
    engine = create_engine(configured)
    try:
        sender = MailSender(configured, create_session_factory(engine))
        async with (
            serve(configured) as server,
            httpx.AsyncClient(base_url=server.http, timeout=TIMEOUT) as http,
        ):
            api = Api(client=http, db=db, settings=configured)
            await api.user("admin", GlobalRole.admin)
            council = await build_council(api)
            await arrange(council)
            await schedule(council)
            assert (await sender.tick(utcnow())).sent == len(ADDRESSED)
            chair, _ = await join(server, api, council.meeting_id, "chair")
            await chair.send({"type": "meeting.status", "status": "cancelled", "ref": "c"})
            await chair.until("ack", ref="c")
            await chair.close()
        assert (await sender.tick(utcnow())).sent == len(ADDRESSED)
    finally:
        await engine.dispose()
    cancellation = inbox.to(address("delegate1"))[-1]
    assert ics_of(cancellation)["METHOD"] == "CANCEL"
