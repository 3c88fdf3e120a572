"""Request dependencies of the agenda domain: the meeting in the path, as the caller may see it."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency
from litestar.params import FromPath

from meeting.agenda import service
from meeting.agenda.service import MeetingAccess
from meeting.db import DbSession
from meeting.users import CurrentUser

# How handlers ask for the meeting in their path, as the caller may see it.
Access: TypeAlias = NamedDependency[MeetingAccess]


async def provide_access(
    meeting_id: FromPath[int], db_session: DbSession, current_user: CurrentUser
) -> MeetingAccess:
    """Dependency: the meeting in the path, as the caller may see it (404 if they may not)."""
    return await service.load_access(db_session, meeting_id, current_user)
