"""Invitations and reminders by e-mail: the outbox, its sender, the messages and their .ics."""

from meeting.mail.deps import MailOutbox
from meeting.mail.models import MailKind, MailState, MeetingCalendar, OutboxMessage
from meeting.mail.plugin import MailPlugin
from meeting.mail.service import Outbox, meeting_edited, meeting_status_changed, participant_changed

__all__ = [
    "MailKind",
    "MailOutbox",
    "MailPlugin",
    "MailState",
    "MeetingCalendar",
    "Outbox",
    "OutboxMessage",
    "meeting_edited",
    "meeting_status_changed",
    "participant_changed",
]
