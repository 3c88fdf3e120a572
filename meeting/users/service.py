"""Account rules: login with rate limits, token checks and revocation, account management."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import TYPE_CHECKING

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError

from meeting.db import utcnow
from meeting.errors import Code, Conflict, Forbidden, InvalidInput, NotFound, RateLimited, Unauthenticated
from meeting.users.models import GlobalRole, RevokedToken, User
from meeting.users.names import clean_display_name, same_name
from meeting.users.security import TokenClaims, decode_token, hash_password, issue_token, verify_password

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.broker import Broker
    from meeting.settings import Settings
    from meeting.users.schemas import UserCreate, UserUpdate


# A room of tablets may share one address behind the Wi-Fi router, so an address gets many more tries.
ADDRESS_LIMIT_FACTOR = 20


log = logging.getLogger("meeting.users")


class LoginLimiter:
    """Moving-window limits on login attempts, per account *from one address* and per address.

    Guessing stays slow for everyone (ten tries a minute at one account from one address, and at most
    ADDRESS_LIMIT_FACTOR times that from one address at all, each try costing an argon2 hash), while a
    stranger cannot lock the owner out: their tries count against their own address, and the owner on
    another tablet still gets in.
    """

    def __init__(self, settings: Settings, redis: Redis | None) -> None:
        # With Redis the counts are shared by every server process; the connections are the broker's,
        # closed with it, and the keys carry the namespace so installations sharing Redis stay apart.
        storage = (
            RedisStorage(
                f"async+{settings.redis_url}",
                implementation="redispy",
                key_prefix=f"{settings.channel_namespace}-login",
                connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # limits types **options narrowly
            )
            if settings.redis_url and redis is not None
            else MemoryStorage()
        )
        self._limiter = MovingWindowRateLimiter(storage)
        # While Redis is away, attempts are limited per process rather than not at all.
        self._fallback = MovingWindowRateLimiter(MemoryStorage())
        self._per_user = RateLimitItemPerMinute(settings.login_attempts_per_minute)
        self._per_address = RateLimitItemPerMinute(settings.login_attempts_per_minute * ADDRESS_LIMIT_FACTOR)

    async def hit(self, username: str, address: str) -> None:
        """Count one attempt; raise RateLimited when either key is over its limit."""
        keys = ((self._per_user, f"user:{username}@{address}"), (self._per_address, f"addr:{address}"))
        for limit, key in keys:
            try:
                allowed = await self._limiter.hit(limit, key)
            except (RedisError, OSError) as exc:
                log.warning("redis unavailable, login attempts limited in this process only: %s", exc)
                allowed = await self._fallback.hit(limit, key)
            if not allowed:
                raise RateLimited(
                    Code.AUTH_RATE_LIMITED, "too many login attempts; wait a minute and try again"
                )


async def authenticate(
    session: AsyncSession, limiter: LoginLimiter, username: str, password: str, address: str
) -> User:
    """Return the active user with these credentials, or raise Unauthenticated (same for every cause)."""
    normalized = username.strip().lower()
    await limiter.hit(normalized, address)
    user = await session.scalar(select(User).where(User.username == normalized))
    ok = await verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        raise Unauthenticated(Code.AUTH_WRONG_LOGIN, "wrong username or password")
    return user


def new_token(settings: Settings, signing_key: str, user: User) -> tuple[str, TokenClaims]:
    """Issue an access token for a user."""
    return issue_token(signing_key, user.id, user.token_version, settings.token_lifetime_seconds)


# Every authenticated request runs this: one statement (on SQLite each is a hand-off to the driver's
# thread), built once rather than per request.
_USER_AND_REVOCATION = (
    select(User, RevokedToken.jti)
    .outerjoin(RevokedToken, RevokedToken.jti == bindparam("jti"))
    .where(User.id == bindparam("user"))
)


async def resolve_token(session: AsyncSession, signing_key: str, token: str) -> tuple[User, TokenClaims]:
    """The user a token speaks for, checking expiry, revocation, token version and account state."""
    claims = decode_token(signing_key, token)
    row = (await session.execute(_USER_AND_REVOCATION, {"user": claims.user_id, "jti": claims.jti})).first()
    user = row[0] if row is not None else None
    if user is None or not user.is_active or user.token_version != claims.token_version:
        raise Unauthenticated(Code.AUTH_TOKEN_INVALID, "the access token is no longer valid; log in again")
    if row is not None and row[1] is not None:
        raise Unauthenticated(Code.AUTH_LOGGED_OUT, "the access token was logged out; log in again")
    return user, claims


async def revoke_token(session: AsyncSession, broker: Broker, user_id: int, claims: TokenClaims) -> None:
    """Log one token out and close the room sockets opened with it; forget expired revocations."""
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    if await session.get(RevokedToken, claims.jti) is None:
        session.add(RevokedToken(jti=claims.jti, expires_at=claims.expires_at))
    await session.commit()
    await broker.end_sessions(user_id, claims.jti)


async def list_users(session: AsyncSession, actor: User) -> list[User]:
    """Accounts, for admins and secretaries choosing whom to invite."""
    if actor.role not in (GlobalRole.admin, GlobalRole.secretary):
        raise Forbidden(Code.USER_LIST_FORBIDDEN, "only administrators and secretaries can list accounts")
    return list(await session.scalars(select(User).order_by(User.display_name, User.id)))


async def _display_name(session: AsyncSession, raw: str, user_id: int | None) -> str:
    """The cleaned name, refused when invalid or when another account already reads the same."""
    try:
        name = clean_display_name(raw)
    except ValueError as exc:
        raise InvalidInput(Code.USER_DISPLAY_NAME_INVALID, f"displayName: {exc}") from exc
    others = await session.scalars(select(User.display_name).where(User.id != (user_id or 0)))
    if any(same_name(name, other) for other in others):
        raise Conflict(Code.USER_DISPLAY_NAME_TAKEN, f"another account is already named {name!r}")
    return name


# One address, no display name, no spaces or angle brackets: what an SMTP server takes as RCPT TO.
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\].]+$")


def clean_email(raw: str | None) -> str | None:
    """The address trimmed and its domain lower-cased; None for none ("" removes one).

    Raises:
        InvalidInput: user.email_invalid, naming the address.
    """
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if not _EMAIL.match(value) or not value.isprintable():
        raise InvalidInput(Code.USER_EMAIL_INVALID, f"email {value!r} is not an e-mail address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


async def create_user(session: AsyncSession, actor: User | None, data: UserCreate) -> User:
    """Create an account; `actor` None means the command line."""
    if actor is not None and actor.role != GlobalRole.admin:
        raise Forbidden(Code.USER_CREATE_FORBIDDEN, "only administrators can create accounts")
    username = data.username.lower()
    if await session.scalar(select(func.count()).where(User.username == username)):
        raise Conflict(Code.USER_USERNAME_TAKEN, f"username {username!r} is taken")
    user = User(
        username=username,
        display_name=await _display_name(session, data.display_name, None),
        password_hash=await hash_password(data.password),
        role=data.role,
        email=clean_email(data.email),
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError as exc:  # a concurrent create of the same name
        await session.rollback()
        raise Conflict(Code.USER_USERNAME_TAKEN, f"username {username!r} is taken") from exc
    return user


async def update_user(
    session: AsyncSession, broker: Broker, actor: User, user_id: int, data: UserUpdate
) -> User:
    """Change an account; admins change anyone, users only their own password.

    Names are official (the minutes, the speaker queue, every download's watermark): only an
    administrator gives or changes one.
    """
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(Code.USER_NOT_FOUND, f"user {user_id} not found")
    is_admin = actor.role == GlobalRole.admin
    if not is_admin and (
        actor.id != user_id
        or data.role is not None
        or data.is_active is not None
        or data.display_name is not None
        or data.email is not None
    ):
        raise Forbidden(
            Code.USER_CHANGE_FORBIDDEN,
            "only administrators can change other accounts, names, addresses, roles or activation",
        )
    if is_admin and actor.id == user_id and (data.is_active is False or data.role not in (None, actor.role)):
        raise Conflict(Code.USER_CANNOT_DEMOTE_SELF, "administrators cannot disable or demote themselves")
    end_sessions = False
    if data.email is not None:
        user.email = clean_email(data.email)
    if data.display_name is not None:
        user.display_name = await _display_name(session, data.display_name, user.id)
    if data.password is not None:
        user.password_hash = await hash_password(data.password)
        end_sessions = True
    if data.role is not None and data.role != user.role:
        user.role = data.role
        end_sessions = True
    if data.is_active is not None and data.is_active != user.is_active:
        user.is_active = data.is_active
        end_sessions = True
    if end_sessions:
        # Every token carries the version it was issued under; bumping it refuses them all now.
        user.token_version += 1
    await session.commit()
    if end_sessions:
        await broker.end_sessions(user.id)
    return user


def token_lifetime(claims: TokenClaims) -> int:
    """Seconds until a token expires."""
    return max(0, int((claims.expires_at - dt.datetime.now(dt.UTC)).total_seconds()))
