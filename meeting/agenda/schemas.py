"""Request, response and event shapes for meetings, agenda items, participants and attendance."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from meeting.agenda.models import (
    Attendance,
    ItemStatus,
    MeetingStatus,
    MinutesStatus,
    ParticipantRole,
)
from meeting.broker import Event
from meeting.schemas import LongText, Schema, ShortText

AwareDatetime = Annotated[dt.datetime, msgspec.Meta(tz=True)]
Title = Annotated[str, ShortText]
Text = Annotated[str, LongText]
Place = Annotated[str, msgspec.Meta(max_length=200)]
TimezoneName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Fraction = Annotated[float, msgspec.Meta(gt=0, le=1)]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=24 * 60)]
Id = Annotated[int, msgspec.Meta(ge=1)]
# Seconds a speech may last: from ten seconds to two hours.
SpeakingLimit = Annotated[int, msgspec.Meta(ge=10, le=2 * 60 * 60)]


class MeetingCreate(Schema):
    """A new meeting; it starts as a draft."""

    title: Title
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    description: Text = ""
    location: Place = ""
    timezone: TimezoneName = "Asia/Ho_Chi_Minh"
    online_allowed: bool = True
    quorum_fraction: Fraction = 0.5
    speaking_limit_seconds: SpeakingLimit | None = None


class MeetingUpdate(Schema):
    """Changes to a meeting's details (status has its own endpoint)."""

    title: Title | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    description: Text | None = None
    location: Place | None = None
    timezone: TimezoneName | None = None
    online_allowed: bool | None = None
    quorum_fraction: Fraction | None = None
    # Null makes speeches untimed; left out, it stays as it is.
    speaking_limit_seconds: SpeakingLimit | msgspec.UnsetType | None = msgspec.UNSET


class MeetingStatusChange(Schema):
    """Move a meeting along its lifecycle."""

    status: MeetingStatus


class MeetingDuplicate(Schema):
    """Copy a meeting as a template for the next session: agenda and participants, new times."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    title: Title | None = None


class MeetingRead(Schema):
    """A meeting, with the caller's role in it."""

    id: int
    title: str
    description: str
    location: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str
    online_allowed: bool
    status: MeetingStatus
    quorum_fraction: float
    speaking_limit_seconds: int | None
    minutes_status: MinutesStatus
    my_role: ParticipantRole | None
    # When it actually went live and ended; None until then.
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None


class ItemCreate(Schema):
    """A new agenda item, appended at the end of its level."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    description: Text = ""
    presenter: Place = ""
    planned_minutes: Minutes | None = None
    parent_id: Id | None = None
    speaking_limit_seconds: SpeakingLimit | None = None  # None: the meeting's


class ItemUpdate(Schema):
    """Changes to an agenda item's text (order and status have their own endpoints)."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)] | None = None
    description: Text | None = None
    presenter: Place | None = None
    planned_minutes: Minutes | None = None
    # Null falls back to the meeting's speaking time; left out, it stays as it is.
    speaking_limit_seconds: SpeakingLimit | msgspec.UnsetType | None = msgspec.UNSET


class ItemStatusChange(Schema):
    """Activate an item, or mark it done."""

    status: ItemStatus


class ItemRead(Schema):
    """An agenda item."""

    id: int
    parent_id: int | None
    position: int
    title: str
    description: str
    presenter: str
    planned_minutes: int | None
    status: ItemStatus
    speaking_limit_seconds: int | None = None  # overrides the meeting's; None: the meeting's


class OrderEntry(Schema):
    """A top-level item and its sub-items, in order."""

    id: Id
    children: list[Id] = msgspec.field(default_factory=list)


class AgendaOrder(Schema):
    """The whole agenda's order: every item exactly once."""

    items: list[OrderEntry]


class ParticipantCreate(Schema):
    """Invite a user with a role; delegates vote unless told otherwise."""

    user_id: Id
    role: ParticipantRole
    voting: bool | None = None


class ParticipantUpdate(Schema):
    """Change a participant's role or voting right."""

    role: ParticipantRole | None = None
    voting: bool | None = None


class AttendanceChange(Schema):
    """Check in (in the room or online), check out, or mark absent with a reason."""

    attendance: Attendance
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class ParticipantRead(Schema):
    """A participant with their attendance."""

    id: int
    user_id: int
    username: str
    display_name: str
    role: ParticipantRole
    voting: bool
    attendance: Attendance
    absence_reason: str
    attendance_at: dt.datetime | None


class Quorum(Schema):
    """Present voting members against those invited, and whether that is enough."""

    present: int
    voting_members: int
    required: int
    fraction: float
    met: bool


class AttendanceRead(Schema):
    """Roll call: everyone's attendance and the quorum."""

    participants: list[ParticipantRead]
    quorum: Quorum


class MeetingChanged(Event, tag="meeting.changed"):
    """A meeting's details or status changed."""

    meeting: MeetingRead


class AgendaChanged(Event, tag="agenda.changed"):
    """The agenda changed: items added, edited, removed, reordered, activated or finished."""

    items: list[ItemRead]


class AttendanceChanged(Event, tag="attendance.changed"):
    """Someone checked in or out, or was marked absent; the quorum may have changed."""

    participant: ParticipantRead
    quorum: Quorum


class ParticipantRemoved(Event, tag="participant.removed"):
    """A participant was removed from the meeting; their sockets are closed."""

    participant_id: int
    user_id: int


class ParticipantChanged(Event, tag="participant.changed"):
    """A participant was invited, or their role or voting right changed."""

    participant: ParticipantRead
