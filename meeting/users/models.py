"""Tables for accounts and revoked tokens."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Enum, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from meeting.db import Base, UtcDateTime, utcnow


class GlobalRole(enum.StrEnum):
    """What a user may do outside any one meeting."""

    admin = "admin"  # everything, every meeting
    secretary = "secretary"  # may create meetings
    user = "user"  # takes part in meetings they are invited to


class User(Base):
    """An account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # Where invitations and reminders go (meeting/mail/); None: this person gets no mail.
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[GlobalRole] = mapped_column(
        Enum(GlobalRole, native_enum=False, length=20, validate_strings=True), default=GlobalRole.user
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped to invalidate every token issued before: disabling, role changes, "log out everywhere".
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class RevokedToken(Base):
    """A token logged out before its expiry; kept only until it would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
