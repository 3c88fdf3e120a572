"""Password hashing (argon2) and signed access tokens (PyJWT)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import secrets
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from meeting.errors import Code, Unauthenticated

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost one argon2 verification.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

ALGORITHM = "HS256"
ISSUER = "meeting"
AUDIENCE = "meeting"


async def hash_password(password: str) -> str:
    """Hash off the event loop: argon2 is deliberately slow."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) still spend the same time and say no."""
    target = password_hash or _DUMMY_HASH
    try:
        ok = await asyncio.to_thread(_hasher.verify, target, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and password_hash is not None


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says."""

    user_id: int
    token_version: int
    jti: str
    expires_at: dt.datetime


def issue_token(key: str, user_id: int, token_version: int, lifetime_seconds: int) -> tuple[str, TokenClaims]:
    """Sign a new access token."""
    now = dt.datetime.now(dt.UTC)
    claims = TokenClaims(
        user_id=user_id,
        token_version=token_version,
        jti=secrets.token_urlsafe(16),
        expires_at=now + dt.timedelta(seconds=lifetime_seconds),
    )
    payload = {
        "sub": str(user_id),
        "ver": token_version,
        "jti": claims.jti,
        "iat": now,
        "exp": claims.expires_at,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM), claims


def decode_token(key: str, token: str) -> TokenClaims:
    """Verify signature, algorithm, expiry, issuer and audience; anything wrong is Unauthenticated."""
    claims = _verified(key, token)
    if claims.expires_at <= dt.datetime.now(dt.UTC):
        raise Unauthenticated(Code.AUTH_TOKEN_EXPIRED, "the access token has expired; log in again")
    return claims


# A tablet sends the same token with every request; what its signature proves never changes, so it is
# verified once (a third of an authenticated read's time was PyJWT). Only the expiry depends on the
# clock, and decode_token checks it on every use. Failures are not cached (lru_cache keeps no
# exceptions), nor is anything about revocation, which resolve_token reads each time.
@functools.lru_cache(maxsize=4096)
def _verified(key: str, token: str) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],  # pinned: "none" and every other algorithm are refused
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
        )
        return TokenClaims(
            user_id=int(payload["sub"]),
            token_version=int(payload.get("ver", -1)),
            jti=str(payload["jti"]),
            expires_at=dt.datetime.fromtimestamp(payload["exp"], dt.UTC),
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated(Code.AUTH_TOKEN_EXPIRED, "the access token has expired; log in again") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise Unauthenticated(Code.AUTH_TOKEN_INVALID, "the access token is invalid") from exc
