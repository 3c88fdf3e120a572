"""Request and response shapes for accounts and login."""

from __future__ import annotations

from typing import Annotated

import msgspec

from meeting.schemas import Schema, ShortText
from meeting.users.models import GlobalRole

Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
NewPassword = Annotated[str, msgspec.Meta(min_length=8, max_length=1024)]
# Checked by the service (user.email_invalid); "" in an update removes the address.
Email = Annotated[str, msgspec.Meta(max_length=320)]


class LoginRequest(Schema):
    """Credentials for `POST /api/auth/login`."""

    username: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    password: Password


class UserRead(Schema):
    """An account as others see it."""

    id: int
    username: str
    display_name: str
    role: GlobalRole
    is_active: bool
    email: str | None


class TokenResponse(msgspec.Struct, kw_only=True):
    """Login answer; snake_case like every OAuth2 token response, so standard clients read it."""

    access_token: str
    token_type: str
    expires_in: int
    user: UserRead


class UserCreate(Schema):
    """A new account (admins only)."""

    username: Username
    display_name: Annotated[str, ShortText]
    password: NewPassword
    role: GlobalRole = GlobalRole.user
    email: Email | None = None


class UserUpdate(Schema):
    """Changes to an account; a role change or disabling ends the user's sessions at once."""

    display_name: Annotated[str, ShortText] | None = None
    password: NewPassword | None = None
    role: GlobalRole | None = None
    is_active: bool | None = None
    email: Email | None = None
