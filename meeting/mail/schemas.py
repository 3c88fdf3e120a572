"""Response shapes of the delivery route: what the secretary sees of each participant's mail."""

from __future__ import annotations

import datetime as dt

from meeting.mail.models import MailKind, MailState
from meeting.schemas import Schema


class MessageRead(Schema):
    """One message to one participant and where it stands."""

    id: int
    kind: MailKind
    state: MailState
    recipient: str
    sequence: int
    attempts: int
    # When it goes out (queued: the next attempt, or a reminder's time); None once sent or failed.
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    # The server's reason of the last failed attempt ("550 5.1.1 no such user"), "" when none.
    last_error: str
    created_at: dt.datetime


class ParticipantMailRead(Schema):
    """A participant's address and their messages, oldest first (participantId None: removed since)."""

    participant_id: int | None
    user_id: int
    display_name: str
    email: str | None
    messages: list[MessageRead]


class InvitationsRead(Schema):
    """Mail of one meeting: whether mail is on at all, and each participant's messages."""

    mail_enabled: bool
    # 0 when no reminders go out.
    reminder_hours: float
    participants: list[ParticipantMailRead]
