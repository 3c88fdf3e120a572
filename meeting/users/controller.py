"""HTTP endpoints for login, logout and accounts."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from meeting.broker import Publisher
from meeting.db import DbSession
from meeting.users import service
from meeting.users.deps import SESSION_COOKIE, Auth, CurrentUser
from meeting.users.schemas import LoginRequest, TokenResponse, UserCreate, UserRead, UserUpdate


class AuthController(Controller):
    """Login, logout and "who am I"."""

    path = "/api/auth"
    tags = ["auth"]

    @post("/login", status_code=HTTP_200_OK)
    async def login(
        self, request: Request[Any, Any, Any], db_session: DbSession, data: JSONBody[LoginRequest]
    ) -> Response[TokenResponse]:
        """Exchange username and password for a bearer token (also set as an HttpOnly cookie)."""
        state = request.app.state
        address = request.client.host if request.client else "unknown"
        user = await service.authenticate(
            db_session, state.login_limiter, data.username, data.password, address
        )
        token, claims = service.new_token(state.settings, state.signing_key, user)
        lifetime = service.token_lifetime(claims)
        body = TokenResponse(
            access_token=token, token_type="bearer", expires_in=lifetime, user=UserRead.from_row(user)
        )
        # A browser-session cookie (no Max-Age): it authenticates the room socket, which carries writes,
        # so it ends when the browser closes, like the tab's token in sessionStorage; the token inside
        # still expires on its own after `lifetime`.
        cookie = Cookie(
            key=SESSION_COOKIE,
            value=token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return Response(body, cookies=[cookie])

    @post("/logout", status_code=HTTP_204_NO_CONTENT)
    async def logout(self, db_session: DbSession, broker: Publisher, auth: Auth) -> Response[None]:
        """Revoke the token used for this request (closing its room sockets) and clear the cookie."""
        await service.revoke_token(db_session, broker, auth.user.id, auth.claims)
        return Response(
            None,
            status_code=HTTP_204_NO_CONTENT,
            cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")],
        )

    @get("/me")
    async def me(self, current_user: CurrentUser) -> UserRead:
        """The logged-in account."""
        return UserRead.from_row(current_user)


class UserController(Controller):
    """Account management."""

    path = "/api/users"
    tags = ["users"]

    @get("/")
    async def list_users(self, db_session: DbSession, current_user: CurrentUser) -> list[UserRead]:
        """Every account (administrators and secretaries)."""
        return [UserRead.from_row(u) for u in await service.list_users(db_session, current_user)]

    @post("/")
    async def create_user(
        self, db_session: DbSession, current_user: CurrentUser, data: JSONBody[UserCreate]
    ) -> UserRead:
        """Create an account (administrators)."""
        return UserRead.from_row(await service.create_user(db_session, current_user, data))

    @patch("/{user_id:int}")
    async def update_user(
        self,
        db_session: DbSession,
        broker: Publisher,
        current_user: CurrentUser,
        user_id: FromPath[int],
        data: JSONBody[UserUpdate],
    ) -> UserRead:
        """Change an account; disabling or a role change ends its sessions at once."""
        user = await service.update_user(db_session, broker, current_user, user_id, data)
        return UserRead.from_row(user)


# What this domain adds to the app (gathered by meeting/app.py).
route_handlers = [AuthController, UserController]
