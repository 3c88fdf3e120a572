"""Tables for polls, eligible voters, ballots (named and secret), conclusions and stored minutes.

Secret ballots: while the poll is open, `poll_voted` says *who* voted and `sealed_ballots` holds
*what*, encrypted; at the close the choices move to `secret_choices` and the receipt hashes to
`secret_receipts`, each in an order that says nothing about time, and the sealed rows go. No row has
a voter, a time or a counter: random keys, and on SQLite no hidden rowid. See docs/voting.md.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from meeting.db import Base, UtcDateTime, utcnow
from meeting.voting.tally import MajorityRule, PollKind, PollMethod


def _enum(kind: type[enum.Enum]) -> Enum:
    # Checked strings, as in the agenda tables: portable and easy to migrate.
    return Enum(kind, native_enum=False, length=20, validate_strings=True)


class PollState(enum.StrEnum):
    """Lifecycle of a poll: draft → open → closed → published."""

    draft = "draft"
    open = "open"
    closed = "closed"
    published = "published"


class Poll(Base):
    """A question put to the vote on an agenda item."""

    __tablename__ = "polls"
    __table_args__ = (
        # At most one open poll per meeting, even when two chairs press "open" at the same instant.
        Index(
            "uq_polls_one_open_per_meeting",
            "meeting_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    kind: Mapped[PollKind] = mapped_column(_enum(PollKind))
    method: Mapped[PollMethod] = mapped_column(_enum(PollMethod))
    # JSON list of option labels.
    options: Mapped[str] = mapped_column(Text)
    max_selections: Mapped[int] = mapped_column(Integer, default=1)
    rule: Mapped[MajorityRule] = mapped_column(_enum(MajorityRule))
    quorum_required: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_change: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[PollState] = mapped_column(_enum(PollState), default=PollState.draft, index=True)
    # Frozen at open: eligible voters present, all voting members, the meeting's quorum fraction.
    eligible_count: Mapped[int] = mapped_column(Integer, default=0)
    members_count: Mapped[int] = mapped_column(Integer, default=0)
    quorum_fraction: Mapped[float] = mapped_column(Float, default=0.5)
    # Frozen at close: the PollResult as JSON; never written again.
    result: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class PollVoter(Base):
    """A participant eligible in one poll, frozen when it opened."""

    __tablename__ = "poll_voters"

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class Ballot(Base):
    """An open or named ballot: who chose what. One per voter and poll, enforced by the database."""

    __tablename__ = "ballots"
    __table_args__ = (UniqueConstraint("poll_id", "participant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    # JSON list of selected option indexes.
    choice: Mapped[str] = mapped_column(String(400))
    cast_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class PollVoted(Base):
    """That a voter took part in a secret poll, and nothing else (no time, no ballot reference)."""

    __tablename__ = "poll_voted"
    # Clustered by its key on SQLite: no hidden rowid records the order of voting.
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy reads it once

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )


class SealedBallot(Base):
    """A secret ballot while its poll is open: the choice sealed (see sealing.py), the receipt's hash.

    Nothing about who or when; and what it holds is unreadable without the server's key, because its
    place in the file can pair it with the voter's `poll_voted` row. Deleted when the poll closes.
    """

    __tablename__ = "sealed_ballots"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy reads it once

    # 128 random bits: the key orders nothing.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)


class SecretChoice(Base):
    """One counted choice of a closed secret poll: written at the close, all at once, in random order."""

    __tablename__ = "secret_choices"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy reads it once

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    # JSON list of selected option indexes.
    choice: Mapped[str] = mapped_column(String(400))


class SecretReceipt(Base):
    """The hash of one counted ballot's receipt, kept apart from the choices so neither names the other."""

    __tablename__ = "secret_receipts"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy reads it once

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    receipt_hash: Mapped[str] = mapped_column(String(64), primary_key=True)


class Conclusion(Base):
    """One version of an agenda item's conclusion, in Markdown."""

    __tablename__ = "conclusions"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class MinutesCopy(Base):
    """A stored PDF of approved minutes: the approved original, then each signed copy; served as stored."""

    __tablename__ = "minutes_copies"
    __table_args__ = (UniqueConstraint("meeting_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    # Empty for the approved original; for a signed copy, who added its newest signature.
    signer_role: Mapped[str] = mapped_column(String(20), default="")  # "secretary" or "chair"
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
