"""Tables of the mail outbox: one row per message to one recipient, and each meeting's calendar identity."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from meeting.db import Base, UtcDateTime, utcnow


def _enum(kind: type[enum.Enum]) -> Enum:
    # Stored as checked strings, like every state of the schema: portable and easy to migrate.
    return Enum(kind, native_enum=False, length=20, validate_strings=True)


class MailKind(enum.StrEnum):
    """What a message tells its recipient."""

    invitation = "invitation"  # you are invited (METHOD:REQUEST)
    update = "update"  # the time or place changed (METHOD:REQUEST, higher SEQUENCE)
    cancellation = "cancellation"  # the meeting is off, or you were removed from it (METHOD:CANCEL)
    reminder = "reminder"  # the meeting starts soon (the same REQUEST again)


class MailState(enum.StrEnum):
    """Where a message stands; `queued → sending → sent | failed`, or back to queued to retry."""

    queued = "queued"  # waiting for `next_attempt_at`
    sending = "sending"  # claimed by one sender until `claimed_until`
    sent = "sent"  # the SMTP server accepted it
    failed = "failed"  # refused for good (5xx), or gave up after the last attempt
    superseded = "superseded"  # a newer message to the same person replaced it before it went


class MeetingCalendar(Base):
    """A meeting as calendars know it: the UID every .ics of it carries, and its SEQUENCE."""

    __tablename__ = "mail_calendars"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    # Raised by every change calendars must apply over the last one (time, place, cancellation).
    sequence: Mapped[int] = mapped_column(Integer, default=0)


class OutboxMessage(Base):
    """One message to one recipient, written in the transaction of the change that causes it."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The address as it was when the message was queued: the row shows where it went.
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[MailKind] = mapped_column(_enum(MailKind))
    # The calendar SEQUENCE this message carries, and the start it announces (one reminder per start).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    state: Mapped[MailState] = mapped_column(_enum(MailState), default=MailState.queued, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When a queued message may go (a reminder: when it is due); None once it is sent, failed or moot.
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=utcnow, index=True)
    # Which sender holds a message in `sending`, and until when; past it another sender may take it over.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Reminders only: "reminder:<meeting>:<user>:<start>", unique, so two senders scanning at once
    # queue one reminder (NULLs never collide, on SQLite as on PostgreSQL).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
