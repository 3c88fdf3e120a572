"""Who is calling: the request dependencies that turn a bearer token or session cookie into a User."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from litestar.connection import ASGIConnection
from litestar.di import NamedDependency

from meeting.db import DbSession
from meeting.errors import Code, Unauthenticated
from meeting.users.models import User
from meeting.users.security import TokenClaims
from meeting.users.service import resolve_token

SESSION_COOKIE = "meeting_session"
# The cookie authenticates only reads (page images, downloads) and WebSockets (which check Origin);
# writes need the Authorization header, which a cross-site form or image tag cannot send.
_COOKIE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Authenticated:
    """The caller and the token they used."""

    user: User
    claims: TokenClaims


def token_from(connection: ASGIConnection[Any, Any, Any, Any], *, allow_cookie: bool) -> str | None:
    """The bearer token of a request, or the session cookie where that is allowed."""
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if allow_cookie:
        return connection.cookies.get(SESSION_COOKIE) or None
    return None


async def provide_auth(request: ASGIConnection[Any, Any, Any, Any], db_session: DbSession) -> Authenticated:
    """Dependency: the authenticated caller, or 401."""
    method = request.scope.get("method", "GET")
    token = token_from(request, allow_cookie=method in _COOKIE_METHODS)
    if token is None:
        raise Unauthenticated(Code.AUTH_REQUIRED, "log in first: send 'Authorization: Bearer <token>'")
    user, claims = await resolve_token(db_session, request.app.state.signing_key, token)
    return Authenticated(user=user, claims=claims)


Auth: TypeAlias = NamedDependency[Authenticated]
CurrentUser: TypeAlias = NamedDependency[User]


async def provide_current_user(auth: Auth) -> User:
    """Dependency: the authenticated user."""
    return auth.user
