"""HTTP endpoints for meetings, their agenda, participants and attendance."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.di import Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from meeting.agenda import service
from meeting.agenda.deps import Access, provide_access
from meeting.agenda.models import MeetingStatus
from meeting.agenda.schemas import (
    AgendaOrder,
    AttendanceChange,
    AttendanceRead,
    ItemCreate,
    ItemRead,
    ItemStatusChange,
    ItemUpdate,
    MeetingCreate,
    MeetingDuplicate,
    MeetingRead,
    MeetingStatusChange,
    MeetingUpdate,
    ParticipantCreate,
    ParticipantRead,
    ParticipantUpdate,
)
from meeting.agenda.service import MeetingAccess
from meeting.broker import Publisher
from meeting.db import DbSession
from meeting.mail import MailOutbox
from meeting.users import CurrentUser


def _read(access: MeetingAccess) -> MeetingRead:
    return MeetingRead.from_row(access.meeting, my_role=access.role)


class MeetingController(Controller):
    """Meetings: create, list, read, update, lifecycle, duplicate."""

    path = "/api/meetings"
    tags = ["meetings"]
    dependencies = {"access": Provide(provide_access)}

    @post("/")
    async def create_meeting(
        self, db_session: DbSession, current_user: CurrentUser, data: JSONBody[MeetingCreate]
    ) -> MeetingRead:
        """Create a draft meeting; the creator becomes its secretary."""
        return _read(await service.create_meeting(db_session, current_user, data))

    @get("/")
    async def list_meetings(
        self,
        db_session: DbSession,
        current_user: CurrentUser,
        status: Annotated[
            list[MeetingStatus] | None, QueryParameter(description="only these statuses")
        ] = None,
        starts_from: Annotated[
            dt.datetime | None, QueryParameter(name="from", description="starts at or after")
        ] = None,
        starts_before: Annotated[
            dt.datetime | None, QueryParameter(name="to", description="starts before")
        ] = None,
    ) -> list[MeetingRead]:
        """Meetings I take part in (all, for admins), soonest first; filter by status and start time."""
        rows = await service.list_meetings(db_session, current_user, status, starts_from, starts_before)
        return [MeetingRead.from_row(meeting, my_role=role) for meeting, role in rows]

    @get("/{meeting_id:int}")
    async def get_meeting(self, access: Access) -> MeetingRead:
        """One meeting."""
        return _read(access)

    @patch("/{meeting_id:int}")
    async def update_meeting(
        self,
        db_session: DbSession,
        broker: Publisher,
        outbox: MailOutbox,
        access: Access,
        data: JSONBody[MeetingUpdate],
    ) -> MeetingRead:
        """Change title, times, place, online attendance or quorum fraction."""
        await service.update_meeting(db_session, broker, access, data, outbox=outbox)
        return _read(access)

    @post("/{meeting_id:int}/status", status_code=HTTP_200_OK)
    async def change_status(
        self,
        db_session: DbSession,
        broker: Publisher,
        outbox: MailOutbox,
        access: Access,
        data: JSONBody[MeetingStatusChange],
    ) -> MeetingRead:
        """draft → scheduled → live → ended → archived; draft or scheduled → cancelled."""
        await service.change_meeting_status(db_session, broker, access, data.status, outbox=outbox)
        return _read(access)

    @post("/{meeting_id:int}/duplicate")
    async def duplicate_meeting(
        self, db_session: DbSession, access: Access, data: JSONBody[MeetingDuplicate]
    ) -> MeetingRead:
        """Copy as a template for the next session (agenda and participants, new times, draft)."""
        return _read(await service.duplicate_meeting(db_session, access, data))


class AgendaController(Controller):
    """A meeting's agenda items."""

    path = "/api/meetings/{meeting_id:int}/agenda"
    tags = ["agenda"]
    dependencies = {"access": Provide(provide_access)}

    @get("/")
    async def list_items(self, db_session: DbSession, access: Access) -> list[ItemRead]:
        """The agenda in display order (each item followed by its sub-items)."""
        return [ItemRead.from_row(i) for i in await service.list_items(db_session, access)]

    @post("/")
    async def create_item(
        self, db_session: DbSession, broker: Publisher, access: Access, data: JSONBody[ItemCreate]
    ) -> ItemRead:
        """Append an item (or a sub-item, with parentId)."""
        return ItemRead.from_row(await service.create_item(db_session, broker, access, data))

    @patch("/{item_id:int}")
    async def update_item(
        self,
        db_session: DbSession,
        broker: Publisher,
        access: Access,
        item_id: FromPath[int],
        data: JSONBody[ItemUpdate],
    ) -> ItemRead:
        """Edit an item's title, description, presenter or planned minutes."""
        return ItemRead.from_row(await service.update_item(db_session, broker, access, item_id, data))

    @delete("/{item_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def delete_item(
        self, db_session: DbSession, broker: Publisher, access: Access, item_id: FromPath[int]
    ) -> None:
        """Remove an item with its sub-items."""
        await service.delete_item(db_session, broker, access, item_id)

    @put("/order")
    async def reorder(
        self, db_session: DbSession, broker: Publisher, access: Access, data: JSONBody[AgendaOrder]
    ) -> list[ItemRead]:
        """Set the order and nesting of every item in one request."""
        return [ItemRead.from_row(i) for i in await service.reorder_items(db_session, broker, access, data)]

    @post("/{item_id:int}/status", status_code=HTTP_200_OK)
    async def change_status(
        self,
        db_session: DbSession,
        broker: Publisher,
        access: Access,
        item_id: FromPath[int],
        data: JSONBody[ItemStatusChange],
    ) -> ItemRead:
        """pending → active → done (done → active to reopen); one item is active at a time."""
        return ItemRead.from_row(
            await service.change_item_status(db_session, broker, access, item_id, data.status)
        )


class ParticipantController(Controller):
    """Who takes part in a meeting, with which role, and their attendance."""

    path = "/api/meetings/{meeting_id:int}"
    tags = ["participants"]
    dependencies = {"access": Provide(provide_access)}

    @get("/participants")
    async def list_participants(self, db_session: DbSession, access: Access) -> list[ParticipantRead]:
        """Everyone invited."""
        return [ParticipantRead.from_row(p) for p in await service.list_participants(db_session, access)]

    @post("/participants")
    async def add_participant(
        self,
        db_session: DbSession,
        broker: Publisher,
        outbox: MailOutbox,
        access: Access,
        data: JSONBody[ParticipantCreate],
    ) -> ParticipantRead:
        """Invite a user with a role (chair, secretary, delegate, guest)."""
        participant = await service.add_participant(db_session, broker, access, data, outbox=outbox)
        return ParticipantRead.from_row(participant)

    @patch("/participants/{participant_id:int}")
    async def update_participant(
        self,
        db_session: DbSession,
        broker: Publisher,
        access: Access,
        participant_id: FromPath[int],
        data: JSONBody[ParticipantUpdate],
    ) -> ParticipantRead:
        """Change a participant's role or voting right."""
        return ParticipantRead.from_row(
            await service.update_participant(db_session, broker, access, participant_id, data)
        )

    @delete("/participants/{participant_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def remove_participant(
        self,
        db_session: DbSession,
        broker: Publisher,
        outbox: MailOutbox,
        access: Access,
        participant_id: FromPath[int],
    ) -> None:
        """Remove someone from the meeting; their access ends at once."""
        await service.remove_participant(db_session, broker, access, participant_id, outbox=outbox)

    @get("/attendance")
    async def attendance(self, db_session: DbSession, access: Access) -> AttendanceRead:
        """Roll call and quorum."""
        participants, quorum = await service.attendance(db_session, access)
        return AttendanceRead(participants=[ParticipantRead.from_row(p) for p in participants], quorum=quorum)

    @put("/participants/{participant_id:int}/attendance")
    async def set_attendance(
        self,
        db_session: DbSession,
        broker: Publisher,
        access: Access,
        participant_id: FromPath[int],
        data: JSONBody[AttendanceChange],
    ) -> ParticipantRead:
        """Roll call by the chair or secretary: present in the room, online, absent (with reason), left."""
        participant, _ = await service.set_attendance(db_session, broker, access, participant_id, data)
        return ParticipantRead.from_row(participant)

    @put("/attendance/me")
    async def check_in(
        self, db_session: DbSession, broker: Publisher, access: Access, data: JSONBody[AttendanceChange]
    ) -> ParticipantRead:
        """Self check-in (in the room or online) and check-out."""
        participant, _ = await service.set_attendance(db_session, broker, access, None, data)
        return ParticipantRead.from_row(participant)


# What this domain adds to the app (gathered by meeting/app.py).
route_handlers = [MeetingController, AgendaController, ParticipantController]
