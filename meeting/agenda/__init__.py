"""Meetings, agenda items, participants, attendance and quorum."""

from meeting.agenda.deps import Access, provide_access
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
    "AgendaItem",
    "Attendance",
    "ItemStatus",
    "Meeting",
    "MeetingAccess",
    "MeetingStatus",
    "Participant",
    "ParticipantRole",
    "load_access",
    "provide_access",
]
