"""Meetings, agenda items, participants, attendance and quorum."""

from meeting.agenda.controller import (
    Access,
    AgendaController,
    MeetingController,
    ParticipantController,
    provide_access,
)
from meeting.agenda.models import (
    AgendaItem,
    Attendance,
    ItemStatus,
    Meeting,
    MeetingStatus,
    Participant,
    ParticipantRole,
)
from meeting.agenda.service import MeetingAccess, load_access

__all__ = [
    "Access",
    "AgendaController",
    "AgendaItem",
    "Attendance",
    "ItemStatus",
    "Meeting",
    "MeetingAccess",
    "MeetingController",
    "MeetingStatus",
    "Participant",
    "ParticipantController",
    "ParticipantRole",
    "load_access",
    "provide_access",
]
