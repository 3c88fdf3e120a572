"""Accounts, password hashing, login, tokens and the current-user dependency."""

from meeting.users.deps import (
    SESSION_COOKIE,
    Auth,
    Authenticated,
    CurrentUser,
    provide_auth,
    provide_current_user,
    token_from,
)
from meeting.users.models import GlobalRole, User
from meeting.users.service import LoginLimiter, resolve_token

__all__ = [
    "SESSION_COOKIE",
    "Auth",
    "Authenticated",
    "CurrentUser",
    "GlobalRole",
    "LoginLimiter",
    "User",
    "provide_auth",
    "provide_current_user",
    "resolve_token",
    "token_from",
]
