"""Tables for meetings, agenda items and participants (with their attendance)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Enum, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from meeting.db import Base, UtcDateTime, utcnow
from meeting.users.models import User


def _enum(kind: type[enum.Enum]) -> Enum:
    # Stored as checked strings: portable between SQLite and PostgreSQL, and easy to migrate.
    return Enum(kind, native_enum=False, length=20, validate_strings=True)


class MeetingStatus(enum.StrEnum):
    """Lifecycle of a meeting."""

    draft = "draft"
    scheduled = "scheduled"
    live = "live"
    ended = "ended"
    archived = "archived"
    cancelled = "cancelled"


# The only transitions allowed; everything else is a 409.
MEETING_TRANSITIONS: dict[MeetingStatus, frozenset[MeetingStatus]] = {
    MeetingStatus.draft: frozenset({MeetingStatus.scheduled, MeetingStatus.cancelled}),
    MeetingStatus.scheduled: frozenset({MeetingStatus.draft, MeetingStatus.live, MeetingStatus.cancelled}),
    MeetingStatus.live: frozenset({MeetingStatus.ended}),
    MeetingStatus.ended: frozenset({MeetingStatus.archived}),
    MeetingStatus.archived: frozenset(),
    MeetingStatus.cancelled: frozenset(),
}


class MinutesStatus(enum.StrEnum):
    """Where a meeting's minutes stand once it has ended; approval freezes the whole record."""

    draft = "draft"  # the secretary is writing them
    submitted = "submitted"  # the secretary sent them to the chair
    approved = "approved"  # the chair approved them: the meeting is read-only from now on


class ItemStatus(enum.StrEnum):
    """Lifecycle of an agenda item."""

    pending = "pending"
    active = "active"
    done = "done"


ITEM_TRANSITIONS: dict[ItemStatus, frozenset[ItemStatus]] = {
    ItemStatus.pending: frozenset({ItemStatus.active}),
    # Back to pending when activated by mistake; done when finished.
    ItemStatus.active: frozenset({ItemStatus.done, ItemStatus.pending}),
    # Reopened when the chair returns to an item (a forgotten vote, say).
    ItemStatus.done: frozenset({ItemStatus.active}),
}


class ParticipantRole(enum.StrEnum):
    """A person's role in one meeting."""

    chair = "chair"
    secretary = "secretary"
    delegate = "delegate"
    guest = "guest"


MANAGER_ROLES = frozenset({ParticipantRole.chair, ParticipantRole.secretary})


class Attendance(enum.StrEnum):
    """Where a participant is, as far as roll call knows."""

    expected = "expected"  # not checked in yet
    in_room = "in_room"
    online = "online"
    absent = "absent"  # with a reason, usually
    left = "left"  # checked out


PRESENT = frozenset({Attendance.in_room, Attendance.online})


class Meeting(Base):
    """A meeting or council session."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    online_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[MeetingStatus] = mapped_column(
        _enum(MeetingStatus), default=MeetingStatus.draft, index=True
    )
    quorum_fraction: Mapped[float] = mapped_column(Float, default=0.5)
    # Seconds a speech may last unless its item or the chair says otherwise; None: untimed.
    speaking_limit_seconds: Mapped[int | None] = mapped_column(Integer)
    minutes_status: Mapped[MinutesStatus] = mapped_column(_enum(MinutesStatus), default=MinutesStatus.draft)
    # When the meeting actually went live and ended (set by the status gate); the minutes print these.
    opened_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    @validates("starts_at", "ends_at")
    def _in_utc(self, _key: str, value: dt.datetime) -> dt.datetime:
        # Held in UTC from the moment it is set, as a loaded row is: reads and events built from a row
        # just changed show the same instants as from a row loaded later. A naive value stays naive, for
        # UtcDateTime to refuse.
        return value.astimezone(dt.UTC) if value.tzinfo is not None else value


class AgendaItem(Base):
    """An item of a meeting's agenda; one level of sub-items under a parent."""

    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"))
    # Order among siblings (top-level items, or the children of one parent).
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    presenter: Mapped[str] = mapped_column(String(200), default="")
    planned_minutes: Mapped[int | None] = mapped_column(Integer)
    # Overrides the meeting's speaking time on this item; None: the meeting's.
    speaking_limit_seconds: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[ItemStatus] = mapped_column(_enum(ItemStatus), default=ItemStatus.pending)


class Participant(Base):
    """A user's place in one meeting: role, voting right, attendance."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(_enum(ParticipantRole))
    # Delegates vote; a chair may be given the vote too (councils' chairs are delegates).
    voting: Mapped[bool] = mapped_column(Boolean, default=False)
    attendance: Mapped[Attendance] = mapped_column(_enum(Attendance), default=Attendance.expected)
    absence_reason: Mapped[str] = mapped_column(String(500), default="")
    attendance_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def username(self) -> str:
        """The user's login name (the participant reads show it)."""
        return self.user.username

    @property
    def display_name(self) -> str:
        """The user's name as the meeting shows it."""
        return self.user.display_name
